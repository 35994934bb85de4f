package flow

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sexpr writes e fully parenthesized, to show how it was grouped.
func sexpr(e Expr) string {
	switch x := e.(type) {
	case *Lit:
		if s, ok := x.Val.(string); ok {
			return quote(s)
		}
		if x.Val == nil {
			return "null"
		}
		return fmt.Sprint(x.Val)
	case *ParamRef:
		return "params." + x.Name
	case *StepRef:
		return strings.Join(append([]string{x.Step, x.Field}, x.Path...), ".")
	case *Unary:
		return "(" + x.Op + sexpr(x.X) + ")"
	case *Binary:
		return "(" + sexpr(x.X) + " " + x.Op + " " + sexpr(x.Y) + ")"
	case *Template:
		var parts []string
		for _, p := range x.Parts {
			if p.Expr == nil {
				parts = append(parts, fmt.Sprintf("%q", p.Text))
			} else {
				parts = append(parts, "${"+sexpr(p.Expr)+"}")
			}
		}
		return "tpl[" + strings.Join(parts, " ") + "]"
	}
	return fmt.Sprintf("?%T", e)
}

func TestParseExprPrecedence(t *testing.T) {
	for _, tc := range []struct {
		src, want string
	}{
		{src: "a.status == 'SUCCESS'", want: "(a.status == 'SUCCESS')"},
		{src: "x.data.ok || y.data.ok && z.data.ok", want: "(x.data.ok || (y.data.ok && z.data.ok))"},
		{src: "(x.data.ok || y.data.ok) && z.data.ok", want: "((x.data.ok || y.data.ok) && z.data.ok)"},
		{src: "!params.A && params.B", want: "((!params.A) && params.B)"},
		{src: "!(params.A && params.B)", want: "(!(params.A && params.B))"},
		{src: "!!params.A", want: "(!(!params.A))"},
		{src: "a.data.n >= 1 && a.data.n < 2.5e1 || a.data.n == -3", want: "(((a.data.n >= 1) && (a.data.n < 25)) || (a.data.n == -3))"},
		{src: "!a.data.x == true", want: "((!a.data.x) == true)"},
		{src: "a.data.x || b.status != null || c.reason <= 'x'", want: "((a.data.x || (b.status != null)) || (c.reason <= 'x'))"},
		{src: `'it\'s \\ ok' != a.reason`, want: `('it\'s \\ ok' != a.reason)`},
		{src: "a.data.x.y.z", want: "a.data.x.y.z"},
		{src: "  params.X\t", want: "params.X"},
		{src: "false||true&&null==null", want: "(false || (true && (null == null)))"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			e, err := ParseExpr(tc.src)
			if err != nil {
				t.Fatalf("ParseExpr(%q): %v", tc.src, err)
			}
			if diff := cmp.Diff(tc.want, sexpr(e)); diff != "" {
				t.Errorf("ParseExpr(%q) (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

func TestParseExprErrors(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want string
	}{
		{src: "", want: "offset 0: missing value at end of expression"},
		{src: "a", want: `offset 0: "a" alone is not a value; write a.status, a.reason or a.data.<field> to read a step, params.NAME to read a param, or quote text: 'a'`},
		{src: "a.statu", want: `offset 2: unknown step field "statu": a step has status, reason and data; did you mean "status"?`},
		{src: "a.status.x", want: `offset 9: a.status is a string; it has no fields`},
		{src: "params", want: "offset 0: write params.NAME to read a param"},
		{src: "params.A.B", want: "offset 0: write params.NAME to read a param"},
		{src: "a.data.", want: "offset 7: unexpected end of expression after '.'; expected a name"},
		{src: "(params.A", want: "offset 9: unexpected end of expression; expected ')'"},
		{src: "params.A)", want: "offset 8: unexpected ')' after the expression"},
		{src: "'abc", want: "offset 0: unterminated string: missing closing '"},
		{src: `'a\n'`, want: `offset 2: unknown escape in string: only \' and \\ are allowed`},
		{src: "1 == 2 == 3", want: "offset 7: comparisons do not chain; use parentheses and && instead"},
		{src: "params.A & params.B", want: "offset 9: unexpected '&'; write &&"},
		{src: "- 1", want: "offset 0: '-' is allowed only directly before a number"},
		{src: "1x", want: `offset 1: malformed number "1x"`},
		{src: "1e999", want: "offset 0: number 1e999 is out of range"},
		{src: "params.A ==", want: "offset 11: missing value at end of expression"},
		{src: "params.A }", want: "offset 9: unexpected '}' after the expression"},
		{src: "é", want: "offset 0: unexpected character 'é'"},
		{src: strings.Repeat("(", 100) + "true" + strings.Repeat(")", 100), want: "offset 64: expression nested more than 64 levels deep"},
		{src: strings.Repeat("!", 100) + "true", want: "offset 64: expression nested more than 64 levels deep"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			_, err := ParseExpr(tc.src)
			got := "<nil>"
			if err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseExpr(%q) error (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

func TestParseTemplate(t *testing.T) {
	for _, tc := range []struct {
		src, want, err string
	}{
		{src: "", want: "tpl[]"},
		{src: "plain $ text {}", want: `tpl["plain $ text {}"]`},
		{src: "s3://${params.B}/${a.data.key}.stl", want: `tpl["s3://" ${params.B} "/" ${a.data.key} ".stl"]`},
		{src: "${ a.reason == '}' }", want: `tpl[${(a.reason == '}')}]`},
		{src: "$${not} ${params.X}$${", want: `tpl["${not} " ${params.X} "${"]`},
		{src: "x ${params.X", err: "offset 2: unclosed ${: missing '}'"},
		{src: "${}", err: "offset 0: empty ${}"},
		{src: "${params.X params.Y}", err: `offset 11: unexpected name "params"; expected '}' to close ${`},
	} {
		t.Run(tc.src, func(t *testing.T) {
			tpl, err := ParseTemplate(tc.src)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("ParseTemplate(%q) error = %v, want %s", tc.src, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTemplate(%q): %v", tc.src, err)
			}
			if diff := cmp.Diff(tc.want, sexpr(tpl)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestWalk(t *testing.T) {
	tpl, err := ParseTemplate("${!a.data.x && params.P == 'v'} and ${b.status}")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	Walk(tpl, func(e Expr) { got = append(got, fmt.Sprintf("%T", e)) })
	want := []string{"*flow.Template", "*flow.Binary", "*flow.Unary", "*flow.StepRef", "*flow.Binary", "*flow.ParamRef", "*flow.Lit", "*flow.StepRef"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Walk (-want +got):\n%s", diff)
	}
}
