package compiler

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"

	"github.com/jobctl/jobctl/groovy"
	"github.com/jobctl/jobctl/jobs"
)

// shLib is lib/sh: which file defines which shell function, and which
// functions each file itself calls.
type shLib struct {
	files   []*LibFile
	defines map[string]int // function → index in files
	uses    [][]int        // file index → indexes of lib files it calls into
}

var (
	// A shell function definition: "name() {", "name() (", "function name {"
	// or "function name() {", the body possibly on the next line. awk's
	// "function name(a, b) {" inside a quoted awk program is not one.
	shFuncRE = regexp.MustCompile(`(?m)^[ \t]*(?:function[ \t]+([A-Za-z_][A-Za-z0-9_:.-]*)(?:[ \t]*\([ \t]*\))?[ \t]*(?:\{|$)|(?:function[ \t]+)?([A-Za-z_][A-Za-z0-9_:.-]*)[ \t]*\([ \t]*\)[ \t]*(?:\{|\(|$))`)
	shWordRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_:.-]*`)
)

func newShLib(files []*LibFile, ps *jobs.Problems) *shLib {
	l := &shLib{files: files, defines: map[string]int{}, uses: make([][]int, len(files))}
	where := map[string]string{}
	for i, f := range files {
		for _, m := range shFuncRE.FindAllSubmatchIndex(f.Data, -1) {
			s, e := m[2], m[3]
			if s < 0 {
				s, e = m[4], m[5]
			}
			name := string(f.Data[s:e])
			line := 1 + bytes.Count(f.Data[:s], []byte("\n"))
			pos := fmt.Sprintf("%s:%d", f.Path, line)
			if prev, dup := where[name]; dup && l.defines[name] != i {
				ps.Add(f.Path, line, 1, "shell function %s is also defined at %s; a function can live in one lib/sh file only", name, prev)
				continue
			}
			where[name] = pos
			l.defines[name] = i
		}
	}
	for i, f := range files {
		l.uses[i] = l.called(f.Data, i)
	}
	return l
}

// called returns the lib files whose functions appear as words in src,
// excluding self.
func (l *shLib) called(src []byte, self int) []int {
	if len(l.defines) == 0 {
		return nil
	}
	seen := map[int]bool{}
	for _, w := range shWordRE.FindAll(src, -1) {
		if i, ok := l.defines[string(w)]; ok && i != self {
			seen[i] = true
		}
	}
	return sortedKeys(seen)
}

// For returns the lib code a body uses, directly or through other lib files,
// concatenated in path order with a comment naming each file.
func (l *shLib) For(body []byte) []byte {
	idx := closure(l.called(body, -1), l.uses)
	if len(idx) == 0 {
		return nil
	}
	var b bytes.Buffer
	for _, i := range idx {
		f := l.files[i]
		fmt.Fprintf(&b, "# --- %s ---\n", f.Path)
		b.Write(f.Data)
		if len(f.Data) > 0 && f.Data[len(f.Data)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// gvyLib is lib/groovy, parsed once per build.
type gvyLib struct {
	files   []*LibFile
	parsed  []*groovy.File
	defines map[string]int
	uses    [][]int
}

func newGvyLib(files []*LibFile, ps *jobs.Problems) *gvyLib {
	l := &gvyLib{files: files, parsed: make([]*groovy.File, len(files)), defines: map[string]int{}, uses: make([][]int, len(files))}
	where := map[string]string{}
	for i, f := range files {
		pf, err := groovy.Parse(f.Data)
		if err != nil {
			addGroovyError(ps, f.Path, err)
			pf = &groovy.File{}
		}
		l.parsed[i] = pf
		for _, p := range pf.Problems {
			ps.Add(f.Path, p.Pos.Line, p.Pos.Col, "%s", p.Msg)
		}
		for _, d := range pf.Decls {
			if d.Kind != groovy.Method && d.Kind != groovy.Class {
				continue
			}
			pos := fmt.Sprintf("%s:%d", f.Path, d.StartLine)
			if prev, dup := where[d.Name]; dup && l.defines[d.Name] != i {
				// Overloads in one file are fine; the same name in two files is ambiguous.
				ps.Add(f.Path, d.StartLine, 1, "%s is also defined at %s; a name can live in one lib/groovy file only", d.Name, prev)
				continue
			}
			where[d.Name] = pos
			l.defines[d.Name] = i
		}
		if line := firstStatementLine(f.Data, pf); line > 0 {
			ps.Add(f.Path, line, 1, "a lib/groovy file may only declare methods, classes, imports and @Field variables; move statements into a method")
		}
	}
	for i := range files {
		l.uses[i] = l.called(l.parsed[i].Idents, i)
	}
	return l
}

// firstStatementLine returns the line of the first top-level statement in a
// file that should hold only declarations, or 0. Declarations are blanked
// out and what remains is scanned for code.
func firstStatementLine(src []byte, pf *groovy.File) int {
	rest := blankDecls(src, pf.Decls)
	left, err := groovy.Parse(rest)
	if err != nil || len(left.Idents) == 0 && len(left.Refs) == 0 {
		return 0
	}
	// Find the line of the first remaining identifier-bearing code.
	for i, line := range bytes.Split(rest, []byte("\n")) {
		lf, err := groovy.Parse(line)
		if err == nil && len(lf.Idents) > 0 {
			return i + 1
		}
	}
	return 1
}

// blankDecls replaces the declarations in src by spaces, keeping newlines.
func blankDecls(src []byte, decls []groovy.Decl) []byte {
	out := append([]byte(nil), src...)
	for _, d := range decls {
		for i := d.Start; i < d.End && i < len(out); i++ {
			if out[i] != '\n' {
				out[i] = ' '
			}
		}
	}
	return out
}

func (l *gvyLib) called(idents []string, self int) []int {
	seen := map[int]bool{}
	for _, id := range idents {
		if i, ok := l.defines[id]; ok && i != self {
			seen[i] = true
		}
	}
	return sortedKeys(seen)
}

// For returns the indexes of the lib files a script with these identifiers
// uses, directly or indirectly, in path order.
func (l *gvyLib) For(idents []string) []int {
	return closure(l.called(idents, -1), l.uses)
}

// closure returns start and everything reachable from it through uses, sorted.
func closure(start []int, uses [][]int) []int {
	seen := map[int]bool{}
	stack := append([]int(nil), start...)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[i] {
			continue
		}
		seen[i] = true
		stack = append(stack, uses[i]...)
	}
	return sortedKeys(seen)
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func addGroovyError(ps *jobs.Problems, file string, err error) {
	if ge, ok := err.(*groovy.Error); ok {
		ps.Add(file, ge.Pos.Line, ge.Pos.Col, "%s", ge.Msg)
		return
	}
	ps.Add(file, 0, 0, "%v", err)
}
