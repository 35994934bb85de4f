package flow

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/jobctl/jobctl/jobs"
)

// fuzzEnv answers every param and step with varied values, so evaluation
// goes down as many paths as possible.
var fuzzEnv = fakeEnv{
	params: map[string]Value{"A": "x", "B": true, "RUSH": false, "SOURCE_S3_FILE_PATH": "s3://a/b"},
	steps: map[string]fakeReport{
		"a":       {status: "SUCCESS", data: map[string]any{"x": 1.0, "s": "t", "o": map[string]any{"p": []any{1.0}}, "b": true}},
		"b":       {status: "FAILURE", reason: "r"},
		"fetch":   {status: "SUCCESS", data: map[string]any{"path": "/p", "size": 3.0}},
		"inspect": {status: "SUCCESS", data: map[string]any{"triangles": 2.0, "closed": true}},
	},
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		"a.status == 'SUCCESS' && !params.B",
		"(a.data.x > 1 || b.data.y <= -2.5e3) != false",
		`'it\'s' == a.reason`,
		"a.data.o.p == null",
		"${a.data.s} and $${x} ${params.A}",
		"((((!true))))",
		"1 == 2 == 3",
		"'unterminated",
		"a.data.",
		"${",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := ParseExpr(s); err == nil {
			_, _ = e.Eval(fuzzEnv)
			Walk(e, func(Expr) {})
			if e.Position().Col < 1 {
				t.Errorf("ParseExpr(%q): position %v", s, e.Position())
			}
		} else if se, ok := err.(*SyntaxError); !ok || se.Offset < 0 || se.Offset > len(s) {
			t.Errorf("ParseExpr(%q): error %v has a bad offset", s, err)
		}
		if tpl, err := ParseTemplate(s); err == nil {
			if v, err := tpl.Eval(fuzzEnv); err == nil {
				if _, ok := v.(string); !ok {
					t.Errorf("ParseTemplate(%q).Eval = %T, want a string", s, v)
				}
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(fullFlow)
	f.Add("phases: [{name: a, steps: [{job: fetch_model, params: {SOURCE: x}}]}]\nreport: {data: {price: 1}}")
	f.Add("phases:\n  - name: a\n    when: |\n      params.RUSH\n    steps: [{job: price_model, params: {VOLUME: '${params.A}'}}]\n")
	f.Add("phases: &x [*x]")
	f.Add("")
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1<<16 {
			return
		}
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
			return
		}
		var ps jobs.Problems
		fl := Parse("f.yaml", &doc, testSelf, lookup, testNames, &ps)
		if fl == nil {
			t.Fatal("Parse returned nil")
		}
		if err := ps.Err(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "f.yaml") {
					t.Errorf("problem without the file: %q", line)
				}
			}
			return
		}
		// A flow without problems evaluates without panicking.
		_ = fl.Calls()
		for _, p := range fl.Phases {
			if p.When != nil {
				_, _ = p.When.Eval(fuzzEnv)
			}
			for _, s := range p.Steps {
				for _, a := range s.Params {
					_, _ = a.Value.Eval(fuzzEnv)
				}
			}
		}
		if r := fl.Report; r != nil {
			for _, e := range []Expr{r.Status, r.Reason} {
				if e != nil {
					_, _ = e.Eval(fuzzEnv)
				}
			}
			for _, a := range r.Data {
				_, _ = a.Value.Eval(fuzzEnv)
			}
		}
	})
}
