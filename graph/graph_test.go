package graph

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/jobs"
)

var update = flag.Bool("update", false, "rewrite golden files")

// copyRepo copies a repository to a temporary folder, so that nothing a
// test does can touch the original.
func copyRepo(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "repo")
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		repo   string
		format Format
		golden string
	}{
		{name: "modelshop dot", repo: "../examples/modelshop", format: DOT, golden: "modelshop.dot"},
		{name: "modelshop mermaid", repo: "../examples/modelshop", format: Mermaid, golden: "modelshop.mmd"},
		{name: "shop dot", repo: "testdata/shop", format: DOT, golden: "shop.dot"},
		{name: "shop mermaid", repo: "testdata/shop", format: Mermaid, golden: "shop.mmd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := copyRepo(t, tc.repo)
			var runs [3][]byte
			for i := range runs {
				g, err := Load(root)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := g.Render(&b, tc.format); err != nil {
					t.Fatal(err)
				}
				runs[i] = b.Bytes()
			}
			for i := 1; i < len(runs); i++ {
				if diff := cmp.Diff(string(runs[0]), string(runs[i])); diff != "" {
					t.Fatalf("run %d differs from run 0 (-run0 +run%d):\n%s", i, i, diff)
				}
			}
			golden := filepath.Join("testdata", tc.golden)
			if *update {
				if err := os.WriteFile(golden, runs[0], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(runs[0])); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestLoadWritesNothing(t *testing.T) {
	root := copyRepo(t, "testdata/shop")
	if _, err := Load(root); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{jobs.LockFile, "build"} {
		if _, err := os.Stat(filepath.Join(root, f)); !os.IsNotExist(err) {
			t.Errorf("Load created %s", f)
		}
	}
}

func TestRenderUnknownFormat(t *testing.T) {
	var b bytes.Buffer
	err := (&Graph{}).Render(&b, "svg")
	if err == nil || !strings.Contains(err.Error(), `"svg"`) {
		t.Errorf("Render(svg) = %v, want an error naming the format", err)
	}
}

// hostile are names that would break a careless rendering. Job and
// component names are restricted, but the renderers do not rely on it.
var hostile = []string{
	`plain`,
	`quo"te`,
	`"];  x -> y; z [label="`,
	`back\slash\`,
	`\N\G\E`,
	"new\nline\r",
	"tab\there",
	`#quot;`,
	`end`,
	`a]b[c(d)e{f}g`,
	`<b>html</b>&amp;`,
	`-->|x| y`,
	"%%{init}%% comment",
	"bad\xffutf8",
	"subgraph",
	"",
	"plain\x00",
	"ünïcödé",
}

func hostileGraph() *Graph {
	g := &Graph{}
	for i, n := range hostile {
		next := hostile[(i+1)%len(hostile)]
		g.Components = append(g.Components, Component{Name: n, DependsOn: []string{next}})
		kind := jobs.Worker
		if i%2 == 0 {
			kind = jobs.Orchestration
		}
		g.Jobs = append(g.Jobs, Job{Name: n, Kind: kind, Calls: []string{next}})
	}
	g.sort()
	return g
}

func TestNodeIDs(t *testing.T) {
	seen := map[string]string{}
	for _, n := range hostile {
		for _, id := range []string{componentID(n), jobID(n)} {
			for _, r := range id {
				if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_') {
					t.Errorf("id %q of %q has %q", id, n, r)
				}
			}
			if prev, ok := seen[id]; ok {
				t.Errorf("%q and %q have the same id %q", prev, n, id)
			}
			seen[id] = n
		}
	}
}

// dotToken is one token of DOT: a quoted string (decoded), or anything else.
type dotToken struct {
	quoted bool
	text   string
}

// lexDOT splits DOT into tokens. Quoted strings must hold no backslash
// (Graphviz versions read them differently) and no newline.
func lexDOT(t *testing.T, s string) []dotToken {
	t.Helper()
	var toks []dotToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t':
			i++
		case c == '"':
			var b strings.Builder
			i++
			for ; ; i++ {
				if i >= len(s) {
					t.Fatalf("unterminated string in\n%s", s)
				}
				if s[i] == '\\' {
					t.Fatalf("backslash in a string in\n%s", s)
				}
				if s[i] == '"' {
					i++
					break
				}
				if s[i] == '\n' {
					t.Fatalf("raw newline in a string in\n%s", s)
				}
				b.WriteByte(s[i])
			}
			toks = append(toks, dotToken{quoted: true, text: b.String()})
		case strings.IndexByte("{}[];=,", c) >= 0:
			toks = append(toks, dotToken{text: string(c)})
			i++
		case c == '-' && strings.HasPrefix(s[i:], "->"):
			toks = append(toks, dotToken{text: "->"})
			i += 2
		default:
			j := i
			for j < len(s) && strings.IndexByte(" \n\t\"{}[];=,-", s[j]) < 0 {
				j++
			}
			if j == i {
				t.Fatalf("unexpected %q in\n%s", c, s)
			}
			toks = append(toks, dotToken{text: s[i:j]})
			i = j
		}
	}
	return toks
}

// unescapeLabel decodes the entities dotQuote writes, as Graphviz does.
func unescapeLabel(s string) string {
	return strings.NewReplacer("&#34;", `"`, "&#92;", `\`, "&amp;", "&").Replace(s)
}

func TestDOTHostileNames(t *testing.T) {
	g := hostileGraph()
	var b bytes.Buffer
	if err := g.Render(&b, DOT); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// Every node and edge is one statement on one line.
	want := 3 + 2*(3+len(hostile)) + 2*len(hostile) + 1
	if got := strings.Count(out, "\n"); got != want {
		t.Errorf("got %d lines, want %d:\n%s", got, want, out)
	}
	// Every node statement is: "id" [ label = "..." , shape = "..." ] ;
	// with every identifier and value a quoted string.
	toks := lexDOT(t, out)
	var labels []string
	for i := 0; i+10 < len(toks); i++ {
		if toks[i+1].text != "[" || toks[i+2].text != "label" || i > 0 && toks[i-1].text == "->" {
			continue // not a node statement
		}
		shape := []string{"[", "label", "=", "", ",", "shape", "=", "", "]", ";"}
		for k, w := range shape {
			tok := toks[i+1+k]
			if w == "" {
				if !tok.quoted {
					t.Errorf("token %d of a node statement is %q, want a quoted string", k, tok.text)
				}
				continue
			}
			if tok.text != w {
				t.Fatalf("token %d of a node statement is %q, want %q\n%s", k, tok.text, w, out)
			}
		}
		if !toks[i].quoted {
			t.Errorf("node id %q is not quoted", toks[i].text)
		}
		labels = append(labels, unescapeLabel(toks[i+4].text))
	}
	var names []string
	for _, c := range g.Components {
		names = append(names, dotShown(c.Name))
	}
	for _, j := range g.Jobs {
		names = append(names, dotShown(j.Name))
	}
	if diff := cmp.Diff(names, labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
}

// dotShown is how a DOT label shows a name: control characters as \xHH,
// invalid UTF-8 as U+FFFD.
func dotShown(s string) string {
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if r < 0x20 || r == 0x7f {
			b.WriteString(`\x`)
			b.WriteString(strings.ToLower(string("0123456789ABCDEF"[r>>4]) + string("0123456789ABCDEF"[r&15])))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func TestMermaidHostileNames(t *testing.T) {
	g := hostileGraph()
	var b bytes.Buffer
	if err := g.Render(&b, Mermaid); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if want := 1 + 2*(2+len(hostile)) + 2*len(hostile); len(lines) != want {
		t.Errorf("got %d lines, want %d:\n%s", len(lines), want, out)
	}
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if l == "end" || strings.HasPrefix(l, "subgraph ") || strings.Contains(l, " -->|") {
			continue
		}
		// A node: id, an opening bracket, a quoted label without '"',
		// the matching closing bracket.
		id, rest, _ := strings.Cut(l, "[")
		open := "["
		if strings.Contains(id, "(") {
			id, rest, _ = strings.Cut(l, "(")
			open = "("
		}
		for _, r := range id {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_') {
				t.Errorf("node %q: id %q has %q", l, id, r)
			}
		}
		var o, c string
		switch {
		case open == "[" && strings.HasPrefix(rest, "["):
			o, c = `["`, `"]]`
		case open == "[":
			o, c = `"`, `"]`
		case open == "(":
			o, c = `["`, `"])`
		}
		if !strings.HasPrefix(rest, o) || !strings.HasSuffix(rest, c) {
			t.Errorf("node %q: want the label between %q and %q", l, o, c)
			continue
		}
		label := strings.TrimSuffix(strings.TrimPrefix(rest, o), c)
		if strings.ContainsAny(label, "\"[]()<>{}|&\\\r\n\t") {
			t.Errorf("node %q: label %q has a character Mermaid may read", l, label)
		}
	}
	edge := regexp.MustCompile(`^  \w+ -->\|(calls|depends on)\| \w+$`)
	for _, l := range lines {
		if strings.Contains(l, " -->|") && !edge.MatchString(l) {
			t.Errorf("edge %q: want 'id -->|label| id'", l)
		}
	}
}

func TestMermaidQuote(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{in: "process_upload", want: `"process_upload"`},
		{in: `a"b`, want: `"a#34;b"`},
		{in: "#quot;", want: `"#35;quot#59;"`},
		{in: "x\ny", want: `"x#10;y"`},
	} {
		if got := mermaidQuote(tc.in); got != tc.want {
			t.Errorf("mermaidQuote(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
