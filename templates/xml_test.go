package templates

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/google/go-cmp/cmp"
)

// TestEveryValueEscaped walks the built-in templates: every action that
// prints a value must pipe it through xml, except the whitelisted numbers
// and booleans.
func TestEveryValueEscaped(t *testing.T) {
	safe := map[string]bool{".Concurrent": true, ".Keep.Days": true, ".Keep.Builds": true}
	s := Builtin()
	for _, tmpl := range s.tmpl.Templates() {
		if tmpl.Tree == nil {
			continue
		}
		var walk func(n parse.Node)
		walk = func(n parse.Node) {
			switch n := n.(type) {
			case *parse.ListNode:
				if n == nil {
					return
				}
				for _, c := range n.Nodes {
					walk(c)
				}
			case *parse.ActionNode:
				cmds := n.Pipe.Cmds
				last := cmds[len(cmds)-1]
				text := n.String()
				if len(n.Pipe.Decl) > 0 {
					return
				}
				if id, ok := last.Args[0].(*parse.IdentifierNode); ok && id.Ident == "xml" {
					return
				}
				if len(cmds) == 1 && len(last.Args) == 1 && safe[last.Args[0].String()] {
					return
				}
				t.Errorf("%s: %s prints a value without xml", tmpl.Name(), text)
			case *parse.IfNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.RangeNode:
				walk(n.List)
				walk(n.ElseList)
			case *parse.WithNode:
				walk(n.List)
				walk(n.ElseList)
			}
		}
		walk(tmpl.Tree.Root)
	}
}

func TestEscapeXML(t *testing.T) {
	tests := []struct{ in, want string }{
		{`plain`, `plain`},
		{`a<b>&"c"'d'`, `a&lt;b&gt;&amp;&quot;c&quot;'d'`},
		{"]]>", "]]&gt;"},
		{"cr\r\nlf", "cr&#13;\nlf"},
		{"nul\x00bell\x07", "nul\uFFFDbell\uFFFD"},
		{"bad utf8 \xff", "bad utf8 \uFFFD"},
		{"Zürich 🚀", "Zürich 🚀"},
	}
	for _, tt := range tests {
		if got := EscapeXML(tt.in); got != tt.want {
			t.Errorf("EscapeXML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRenderParses renders each template with hostile values and checks
// the XML parses and gives them back.
func TestRenderParses(t *testing.T) {
	hostile := "</description><x/>&amp;]]>\"'\r\n${x} 東京"
	s := Builtin()
	j := Job{
		Description: hostile, Label: hostile, Keep: NewKeep(3, 0), Schedule: "H 2 * * *",
		Params: []Param{
			{Type: "string", Name: "S", Description: hostile, Default: hostile},
			{Type: "boolean", Name: "B", Default: "true"},
			{Type: "choice", Name: "C", Choices: []string{"a", hostile}},
			{Type: "password", Name: "P", Default: "must-not-appear"},
		},
		Command: Escape(hostile), Artifacts: "report.json", Script: hostile,
	}
	type out struct {
		Description string `xml:"description"`
		Label       string `xml:"assignedNode"`
		Command     string `xml:"builders>hudson.tasks.Shell>command"`
		Script      string `xml:"definition>script"`
		Defs        struct {
			Items []struct {
				Default string   `xml:"defaultValue"`
				Choices []string `xml:"choices>a>string"`
			} `xml:",any"`
		} `xml:"properties>hudson.model.ParametersDefinitionProperty>parameterDefinitions"`
		Days   int `xml:"properties>jenkins.model.BuildDiscarderProperty>strategy>daysToKeep"`
		Builds int `xml:"properties>jenkins.model.BuildDiscarderProperty>strategy>numToKeep"`
	}
	for name, render := range map[string]func(Job) ([]byte, error){"freestyle": s.Freestyle, "pipeline": s.Pipeline} {
		b, err := render(j)
		if err != nil {
			t.Fatal(err)
		}
		var o out
		if err := xml.Unmarshal(b, &o); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		if strings.Contains(string(b), "must-not-appear") {
			t.Errorf("%s: a password default reached the XML", name)
		}
		if o.Description != hostile || o.Days != 3 || o.Builds != -1 {
			t.Errorf("%s: got %+v", name, o)
		}
		if len(o.Defs.Items) != 4 {
			t.Fatalf("%s: %d params, want 4", name, len(o.Defs.Items))
		}
		if diff := cmp.Diff([]string{"a", hostile}, o.Defs.Items[2].Choices); diff != "" {
			t.Errorf("%s: choices (-want +got):\n%s", name, diff)
		}
		var defaults []string
		for _, it := range o.Defs.Items {
			defaults = append(defaults, it.Default)
		}
		if diff := cmp.Diff([]string{hostile, "true", "", ""}, defaults); diff != "" {
			t.Errorf("%s: defaults (-want +got):\n%s", name, diff)
		}
		if name == "freestyle" && (o.Command != hostile || o.Label != hostile) {
			t.Errorf("freestyle: command %q label %q", o.Command, o.Label)
		}
		if name == "pipeline" && o.Script != hostile {
			t.Errorf("pipeline: script %q", o.Script)
		}
	}
	for name, b := range map[string]func() ([]byte, error){
		"folder": func() ([]byte, error) { return s.Folder(Folder{Description: hostile}) },
		"view": func() ([]byte, error) {
			return s.View(View{Name: "latest", Description: hostile, Jobs: []string{"b", "A", "c"}})
		},
	} {
		data, err := b()
		if err != nil {
			t.Fatal(err)
		}
		var o struct {
			Description string   `xml:"description"`
			Jobs        []string `xml:"jobNames>string"`
		}
		if err := xml.Unmarshal(data, &o); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if o.Description != hostile {
			t.Errorf("%s: description %q", name, o.Description)
		}
		if name == "view" {
			if diff := cmp.Diff([]string{"A", "b", "c"}, o.Jobs); diff != "" {
				t.Errorf("view jobs (-want +got):\n%s", diff)
			}
		}
	}
}

// TestMatchesJJB renders the reference jobs of ../shared/reference/jjb-3.11
// and compares them element by element with what Jenkins Job Builder wrote.
func TestMatchesJJB(t *testing.T) {
	ref := filepath.Join("..", "..", "shared", "reference", "jjb-3.11")
	if _, err := os.Stat(ref); err != nil {
		t.Skipf("reference XML not found at %s", ref)
	}
	s := Builtin()
	worker := Job{
		Description: "Worker job: build step for component foo (managed by jobctl)<!-- Managed by Jenkins Job Builder -->",
		Label:       "linux-docker", Keep: NewKeep(3, 200), Schedule: "H 2 * * *",
		Params:  []Param{{Type: "string", Name: "GIT_REF", Description: "Git ref to build", Default: "master"}},
		Command: Escape("#!/bin/bash\nset -euo pipefail\necho \"building ${GIT_REF}\"\n"),
	}
	orch := Job{
		Description: "Orchestration job (managed by jobctl)<!-- Managed by Jenkins Job Builder -->",
		Keep:        NewKeep(3, 200), Schedule: "H 3 * * *",
		Params: []Param{
			{Type: "string", Name: "VERSION", Description: "Version to deploy", Default: "1.0.0"},
			{Type: "boolean", Name: "DRY_RUN", Description: "Skip side effects", Default: "false"},
			{Type: "choice", Name: "ENV", Description: "Target environment", Choices: []string{"staging", "production"}},
		},
		Script: "node('linux-docker') {\n  stage('build') {\n    def r = build job: 'worker-build-v1-abc123', parameters: [string(name: 'GIT_REF', value: params.VERSION)], propagate: false\n    if (r.result != 'SUCCESS') { error \"worker failed: ${r.result}\" }\n  }\n  stage('deploy') {\n    echo \"deploying ${params.VERSION} to ${params.ENV} (dry=${params.DRY_RUN})\"\n  }\n}\n",
	}
	for file, render := range map[string]func() ([]byte, error){
		"worker-build-v1-abc123.xml": func() ([]byte, error) { return s.Freestyle(worker) },
		"orch-deploy-v1-def456.xml":  func() ([]byte, error) { return s.Pipeline(orch) },
	} {
		want, err := os.ReadFile(filepath.Join(ref, file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := render()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(elements(t, want), elements(t, got)); diff != "" {
			t.Errorf("%s: elements differ from Jenkins Job Builder's (-jjb +jobctl):\n%s", file, diff)
		}
	}
}

// elements flattens an XML document to "path[@attrs]=text" lines in
// document order, so two documents can be compared regardless of
// formatting and escaping style.
func elements(t *testing.T, b []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(string(b)))
	var out, stack []string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			name := tok.Name.Local
			for _, a := range tok.Attr {
				name += "[@" + a.Name.Local + "=" + a.Value + "]"
			}
			stack = append(stack, name)
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			out = append(out, strings.Join(stack, "/")+"="+strings.TrimSpace(text.String()))
			stack = stack[:len(stack)-1]
			text.Reset()
		}
	}
	return out
}

func TestRenderWorkerCommandIsEscapedScript(t *testing.T) {
	w := WorkerScript{Process: "p", Source: "jobs/p/run.sh", Body: []byte("#!/bin/bash\necho \"<&>\" ']]>'\n"), Lib: []byte("f() { :; }\n"), Required: []string{"A"}}
	script, err := RenderWorkerScript(w)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := RenderWorkerCommand(w)
	if err != nil {
		t.Fatal(err)
	}
	if string(cmd) != EscapeXML(script) {
		t.Errorf("RenderWorkerCommand differs from EscapeXML(RenderWorkerScript)")
	}
}
