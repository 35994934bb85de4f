// Package graph draws a job repository as a graph: which components depend
// on which, and which orchestrations call which jobs. It renders Graphviz
// DOT and Mermaid flowcharts, deterministically.
package graph

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/jobctl/jobctl/compiler"
	"github.com/jobctl/jobctl/components"
	"github.com/jobctl/jobctl/jobs"
)

// Graph is what jobctl graph draws: two independent graphs, sorted by
// name. Either may be empty; an empty one is left out of the drawing.
type Graph struct {
	Components []Component
	Jobs       []Job
}

// Component is a component and the components it depends on.
type Component struct {
	Name      string
	DependsOn []string
}

// Job is a compiled job and the jobs it calls.
type Job struct {
	Name  string
	Kind  jobs.Kind
	Calls []string
}

// Load reads the components and compiles the jobs of the repository at root.
// A repository without components/ has none.
func Load(root string) (*Graph, error) {
	cs, err := components.Load(root)
	if err != nil {
		return nil, err
	}
	repo, err := compiler.Load(root)
	if err != nil {
		return nil, err
	}
	lock, err := jobs.ReadLock(root)
	if err != nil {
		return nil, err
	}
	res, err := compiler.Compile(repo, lock, compiler.Options{})
	if err != nil {
		return nil, err
	}
	return New(cs, res.Defs), nil
}

// New builds the graph of components cs and compiled definitions defs.
func New(cs []*components.Component, defs []*compiler.Definition) *Graph {
	g := &Graph{Components: []Component{}, Jobs: []Job{}}
	for _, c := range cs {
		n := Component{Name: c.Name}
		for _, r := range c.DependsOn {
			n.DependsOn = append(n.DependsOn, r.Name)
		}
		g.Components = append(g.Components, n)
	}
	for _, d := range defs {
		g.Jobs = append(g.Jobs, Job{Name: d.Job.Name, Kind: d.Job.Kind, Calls: append([]string(nil), d.Calls...)})
	}
	g.sort()
	return g
}

// sort puts nodes and edges in name order, so rendering never depends on
// the order they were found in.
func (g *Graph) sort() {
	sort.Slice(g.Components, func(i, j int) bool { return g.Components[i].Name < g.Components[j].Name })
	for _, c := range g.Components {
		sort.Strings(c.DependsOn)
	}
	sort.Slice(g.Jobs, func(i, j int) bool { return g.Jobs[i].Name < g.Jobs[j].Name })
	for _, j := range g.Jobs {
		sort.Strings(j.Calls)
	}
}

// Format is an output format.
type Format string

const (
	DOT     Format = "dot"
	Mermaid Format = "mermaid"
)

// Formats are the formats Render knows, the default first.
var Formats = []Format{DOT, Mermaid}

// Render writes g in format f.
func (g *Graph) Render(w io.Writer, f Format) error {
	var b strings.Builder
	switch f {
	case DOT:
		g.dot(&b)
	case Mermaid:
		g.mermaid(&b)
	default:
		return fmt.Errorf("unknown format %q", f)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// componentID and jobID are node identifiers that are safe in DOT and
// Mermaid and distinct for distinct names: a name made only of ASCII
// letters, digits and '_' keeps its spelling after a prefix; any other
// name is spelled in hex after another prefix. Components and jobs have
// different prefixes, so they never collide.
func componentID(name string) string { return nodeID("c", name) }
func jobID(name string) string       { return nodeID("j", name) }

func nodeID(prefix, name string) string {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return fmt.Sprintf("%sx_%x", prefix, name)
		}
	}
	return prefix + "_" + name
}

func (g *Graph) dot(b *strings.Builder) {
	b.WriteString("digraph \"jobctl\" {\n")
	b.WriteString("  rankdir=\"LR\";\n")
	b.WriteString("  node [fontname=\"Helvetica\"];\n")
	if len(g.Components) > 0 {
		b.WriteString("  subgraph \"cluster_components\" {\n")
		b.WriteString("    label=\"components\";\n")
		for _, c := range g.Components {
			fmt.Fprintf(b, "    %s [label=%s, shape=\"component\"];\n", dotQuote(componentID(c.Name)), dotQuote(c.Name))
		}
		b.WriteString("  }\n")
	}
	if len(g.Jobs) > 0 {
		b.WriteString("  subgraph \"cluster_jobs\" {\n")
		b.WriteString("    label=\"jobs\";\n")
		for _, j := range g.Jobs {
			shape := "box"
			if j.Kind == jobs.Orchestration {
				shape = "ellipse"
			}
			fmt.Fprintf(b, "    %s [label=%s, shape=%s];\n", dotQuote(jobID(j.Name)), dotQuote(j.Name), dotQuote(shape))
		}
		b.WriteString("  }\n")
	}
	for _, c := range g.Components {
		for _, d := range c.DependsOn {
			fmt.Fprintf(b, "  %s -> %s [label=\"depends on\"];\n", dotQuote(componentID(c.Name)), dotQuote(componentID(d)))
		}
	}
	for _, j := range g.Jobs {
		for _, c := range j.Calls {
			fmt.Fprintf(b, "  %s -> %s [label=\"calls\"];\n", dotQuote(jobID(j.Name)), dotQuote(jobID(c)))
		}
	}
	b.WriteString("}\n")
}

// dotQuote quotes s as a DOT string that is also a safe label. It never
// writes a backslash: Graphviz versions disagree on what "\\" before a
// quote means, and in a label a backslash starts an escape (\N, \G…).
// '"', '\\' and '&' are written as the HTML entities Graphviz decodes in
// every label, control characters are shown as \xHH, and invalid UTF-8
// as U+FFFD.
func dotQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, string(utf8.RuneError)) {
		switch {
		case r == '"':
			b.WriteString("&#34;")
		case r == '\\':
			b.WriteString("&#92;")
		case r == '&':
			b.WriteString("&amp;")
		case r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, "&#92;x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func (g *Graph) mermaid(b *strings.Builder) {
	b.WriteString("flowchart LR\n")
	if len(g.Components) > 0 {
		b.WriteString("  subgraph components[\"components\"]\n")
		for _, c := range g.Components {
			fmt.Fprintf(b, "    %s[[%s]]\n", componentID(c.Name), mermaidQuote(c.Name))
		}
		b.WriteString("  end\n")
	}
	if len(g.Jobs) > 0 {
		b.WriteString("  subgraph jobs[\"jobs\"]\n")
		for _, j := range g.Jobs {
			if j.Kind == jobs.Orchestration {
				fmt.Fprintf(b, "    %s([%s])\n", jobID(j.Name), mermaidQuote(j.Name))
			} else {
				fmt.Fprintf(b, "    %s[%s]\n", jobID(j.Name), mermaidQuote(j.Name))
			}
		}
		b.WriteString("  end\n")
	}
	for _, c := range g.Components {
		for _, d := range c.DependsOn {
			fmt.Fprintf(b, "  %s -->|depends on| %s\n", componentID(c.Name), componentID(d))
		}
	}
	for _, j := range g.Jobs {
		for _, c := range j.Calls {
			fmt.Fprintf(b, "  %s -->|calls| %s\n", jobID(j.Name), jobID(c))
		}
	}
}

// mermaidQuote quotes s as a Mermaid label: everything but ASCII letters,
// digits and a few harmless punctuation marks is written as an entity
// code (#34; for '"'), so no name can end the label, start markup or
// break the line.
func mermaidQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, string(utf8.RuneError)) {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', strings.ContainsRune(" _-.,:/+@", r):
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "#%d;", r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
