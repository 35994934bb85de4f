// Package groovy scans Jenkins pipeline Groovy (Groovy 2.4 syntax) far
// enough for jobctl's compiler: it finds the jobs a script names in build
// steps, the top-level declarations the compiler moves around, and the
// identifiers a script uses.
//
// It is a lexer plus a shallow structural pass, not a parser: it follows
// Groovy 2.4's lexical rules exactly (comments, every string kind with its
// escapes and interpolations, the slashy-string versus division decision,
// significant newlines) and recognises statements only as far as the
// compiler needs.
package groovy

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"unicode/utf8"
)

// Pos is a position in a source file.
type Pos struct {
	Offset int // byte offset, from 0
	Line   int // from 1
	Col    int // from 1, in Unicode code points
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is a lexical error or a problem found in a source file.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// A JobRef is a job named by a string literal in a build step call.
type JobRef struct {
	Name       string // the literal's value (escapes decoded)
	Pos        Pos    // where the literal starts (its opening quote)
	Start, End int    // byte offsets of the whole literal token, quotes included, for rewriting
}

// DeclKind is the kind of a top-level declaration.
type DeclKind int

const (
	Import DeclKind = iota // import, import static
	Method                 // a method definition
	Class                  // class, interface, enum, trait or @interface
	Field                  // a variable declaration annotated with @Field or @groovy.transform.Field
)

func (k DeclKind) String() string {
	switch k {
	case Import:
		return "import"
	case Method:
		return "method"
	case Class:
		return "class"
	case Field:
		return "field"
	}
	return fmt.Sprintf("DeclKind(%d)", int(k))
}

// Decl is a top-level declaration.
type Decl struct {
	Kind DeclKind
	// Name is the method, class or variable name, or the imported path
	// (without "static" and without an "as" alias).
	Name string
	// Start and End are the byte offsets of the whole declaration, leading
	// annotations included, through its closing brace or the end of its
	// statement (a terminating semicolon included).
	Start, End         int
	StartLine, EndLine int
	// OwnLines is true when nothing but whitespace and comments that lie
	// within those lines shares the declaration's first and last lines, so
	// the lines StartLine..EndLine can be moved as a whole.
	OwnLines bool
}

// File is what Parse found in a source file.
type File struct {
	Refs   []JobRef // in source order
	Decls  []Decl   // top-level declarations, in source order
	Idents []string // sorted, unique identifiers used as code (keywords excluded; ${…} and $name interpolations count as code)
	// Problems are non-fatal findings, in source order: build steps whose
	// job is not named by a string literal.
	Problems []Error
}

// Parse scans src. A lexical error (an unterminated string, comment or
// GString interpolation, an unbalanced bracket, an invalid escape or
// character) returns (nil, *Error).
func Parse(src []byte) (*File, error) {
	if len(src) > math.MaxInt32 {
		return nil, &Error{Pos: Pos{Line: 1, Col: 1}, Msg: "file too large"}
	}
	l := lexer{src: src}
	if err := l.run(); err != nil {
		return nil, err
	}
	p := newParser(&l)
	f := &File{}
	p.findRefs(f)
	p.findDecls(f)
	f.Idents = l.identList()
	return f, nil
}

// lines maps byte offsets to positions.
type lines struct {
	src    []byte
	starts []int // offsets at which lines start
	last   Pos   // the last position computed, to count columns from
}

func (ls *lines) pos(off int) Pos {
	if ls.starts == nil {
		ls.starts = make([]int, 1, bytes.Count(ls.src, []byte{'\n'})+1)
		for i := 0; ; {
			j := bytes.IndexByte(ls.src[i:], '\n')
			if j < 0 {
				break
			}
			i += j + 1
			ls.starts = append(ls.starts, i)
		}
	}
	line := sort.Search(len(ls.starts), func(i int) bool { return ls.starts[i] > off }) // ≥ 1
	if ls.last.Line == line && ls.last.Offset <= off {
		// Further on the same line: count from there, so that many
		// positions on one long line cost linear time.
		ls.last = Pos{Offset: off, Line: line, Col: ls.last.Col + utf8.RuneCount(ls.src[ls.last.Offset:off])}
	} else {
		start := ls.starts[line-1]
		ls.last = Pos{Offset: off, Line: line, Col: 1 + utf8.RuneCount(ls.src[start:off])}
	}
	return ls.last
}

// lineEnd returns the offset of the newline that ends the given line, or
// len(src) for the last line.
func (ls *lines) lineEnd(line int) int {
	if line < len(ls.starts) {
		return ls.starts[line] - 1
	}
	return len(ls.src)
}
