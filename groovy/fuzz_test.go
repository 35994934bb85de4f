package groovy

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"testing"
	"unicode/utf8"
)

var fuzzSeeds = []string{
	"build 'a'",
	"build job: \"a\", wait: false\nbuild('b')",
	"node {\n  stage('x') {\n    build job: params.JOB\n    echo \"${build('c')} $x.y\"\n  }\n}",
	"parallel a: { build 'p' }, b: {\n build(job: 'q',\n wait: true)\n}",
	"@Field def x = 1\n@NonCPS\ndef f(a) { a }\nimport a.b.C\nclass A { def build() {} }",
	"x = /a${b}c$d/ + $/e$$f$/g/$ + '''h\n''' + \"\"\"i${\nj\n}\"\"\"",
	"#!/usr/bin/env groovy\nx = a / b / c // build 'z'\n/* build 'y' */",
	"def <T> List<Map<String, T>> f() throws E { [] }\n@Field\nfinal Map m = [\n a: 1\n]",
	"if (x) build 'a' else build \"b\"\nreturn /r/",
	"\"${ \"${'}'}\" }\"",
	"é = '日本'; build é",
	"x = 'a\\u0041\\101\\n'",
	"build",
	"build(",
	"\"$",
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkParse(t, src)
	})
}

// checkParse checks the invariants of Parse's result for src.
func checkParse(t *testing.T, src []byte) {
	f, err := Parse(src)
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("error %T %v, want *Error", err, err)
		}
		if f != nil {
			t.Fatalf("a File with error %v", err)
		}
		checkPos(t, src, e.Pos, "error")
		return
	}
	// References: sorted, disjoint, each a whole string literal token.
	l := lexer{src: src}
	if err := l.run(); err != nil {
		t.Fatalf("Parse succeeded, lexing failed: %v", err)
	}
	literal := map[[2]int]*token{}
	for i := range l.toks {
		if tok := &l.toks[i]; tok.kind == kString {
			literal[[2]int{int(tok.start), int(tok.end)}] = tok
		}
	}
	p := newParser(&l)
	last := -1
	for _, r := range f.Refs {
		if r.Start < 0 || r.Start >= r.End || r.End > len(src) {
			t.Fatalf("ref %+v out of bounds (len %d)", r, len(src))
		}
		if r.Start < last {
			t.Fatalf("refs not sorted or overlapping at %+v", r)
		}
		last = r.End
		tok := literal[[2]int{r.Start, r.End}]
		if tok == nil {
			t.Fatalf("ref %+v: %q is not a string literal token", r, src[r.Start:r.End])
		}
		if v := p.value(tok); v != r.Name {
			t.Fatalf("ref %+v: name %q, literal value %q", r, r.Name, v)
		}
		if r.Pos.Offset != r.Start {
			t.Fatalf("ref %+v: Pos.Offset is not Start", r)
		}
		checkPos(t, src, r.Pos, "ref")
	}
	// Problems: sorted, in bounds.
	for i, pr := range f.Problems {
		checkPos(t, src, pr.Pos, "problem")
		if i > 0 && pr.Pos.Offset < f.Problems[i-1].Pos.Offset {
			t.Fatalf("problems not sorted: %v", f.Problems)
		}
	}
	// Declarations: sorted, disjoint, consistent lines.
	last = 0
	for _, d := range f.Decls {
		if d.Start < last || d.Start >= d.End || d.End > len(src) {
			t.Fatalf("decl %+v out of order or bounds (len %d)", d, len(src))
		}
		last = d.End
		if want := 1 + bytes.Count(src[:d.Start], []byte("\n")); d.StartLine != want {
			t.Fatalf("decl %+v: StartLine, want %d", d, want)
		}
		if want := 1 + bytes.Count(src[:d.End-1], []byte("\n")); d.EndLine != want {
			t.Fatalf("decl %+v: EndLine, want %d", d, want)
		}
		if d.Name == "" && d.Kind != Import {
			t.Fatalf("decl %+v: no name", d)
		}
	}
	// Identifiers: sorted, unique, identifiers.
	if !sort.StringsAreSorted(f.Idents) {
		t.Fatalf("idents not sorted: %q", f.Idents)
	}
	for i, id := range f.Idents {
		if i > 0 && id == f.Idents[i-1] {
			t.Fatalf("ident %q repeated", id)
		}
		if r, _ := utf8.DecodeRuneInString(id); !isIdentStart(r) {
			t.Fatalf("ident %q", id)
		}
	}
	// Rewriting the references as the compiler does keeps the calls.
	if len(f.Refs) > 0 {
		var b []byte
		prev := 0
		for i, r := range f.Refs {
			b = append(b, src[prev:r.Start]...)
			b = append(b, fmt.Sprintf("'job%d'", i)...)
			prev = r.End
		}
		b = append(b, src[prev:]...)
		g, err := Parse(b)
		if err != nil {
			t.Fatalf("rewritten source fails: %v\n%q", err, b)
		}
		if len(g.Refs) != len(f.Refs) {
			t.Fatalf("rewritten source has %d refs, want %d\n%q", len(g.Refs), len(f.Refs), b)
		}
	}
}

// checkPos checks that pos is in bounds and that its line and column
// agree with its offset.
func checkPos(t *testing.T, src []byte, pos Pos, what string) {
	t.Helper()
	if pos.Offset < 0 || pos.Offset > len(src) {
		t.Fatalf("%s at %+v: offset out of bounds (len %d)", what, pos, len(src))
	}
	before := src[:pos.Offset]
	line := 1 + bytes.Count(before, []byte("\n"))
	col := 1 + utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	if pos.Line != line || pos.Col != col {
		t.Fatalf("%s at %+v: want %d:%d", what, pos, line, col)
	}
}
