package groovy

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ref is a JobRef as the tests state it: the name, where the literal
// starts, and the literal's source text (which checks Start and End).
type ref struct {
	Name, Pos, Text string
}

func refsOf(t *testing.T, src string) (refs []ref, problems []string) {
	t.Helper()
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	for _, r := range f.Refs {
		if r.Pos.Offset != r.Start {
			t.Errorf("ref %q: Pos.Offset %d, Start %d", r.Name, r.Pos.Offset, r.Start)
		}
		refs = append(refs, ref{r.Name, r.Pos.String(), src[r.Start:r.End]})
	}
	for _, p := range f.Problems {
		problems = append(problems, p.Pos.String()+": "+p.Msg)
	}
	return refs, problems
}

func dynamic(pos string) string { return pos + ": " + msgDynamicJob }
func noJob(pos string) string   { return pos + ": " + msgNoJob }

func TestRefs(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		refs     []ref
		problems []string
	}{
		// The call forms.
		{name: "command call, single quotes", src: "build 'a'", refs: []ref{{"a", "1:7", "'a'"}}},
		{name: "command call, double quotes", src: `build "a"`, refs: []ref{{"a", "1:7", `"a"`}}},
		{name: "command call, triple quotes", src: "build '''a''' \nbuild \"\"\"b\"\"\"",
			refs: []ref{{"a", "1:7", "'''a'''"}, {"b", "2:7", `"""b"""`}}},
		{name: "command call, escapes decoded", src: `build "a\u0062\$c\\d"`, refs: []ref{{`ab$c\d`, "1:7", `"a\u0062\$c\\d"`}}},
		{name: "paren call", src: "build('a')", refs: []ref{{"a", "1:7", "'a'"}}},
		{name: "paren call with space", src: "build ('a')", refs: []ref{{"a", "1:8", "'a'"}}},
		{name: "paren call, more arguments", src: `build("a", wait: false)`, refs: []ref{{"a", "1:7", `"a"`}}},
		{name: "paren call, slashy", src: "build(/a-b/)", refs: []ref{{"a-b", "1:7", "/a-b/"}}},
		{name: "paren call, dollar slashy", src: "build($/a/$)", refs: []ref{{"a", "1:7", "$/a/$"}}},
		// As in Groovy, "/" after a name is division, so this is build($ / a / $).
		{name: "no slashy string after the name", src: "build /a/\nbuild $/a/$", problems: []string{dynamic("2:7")}},
		{name: "named job", src: "build job: 'a', propagate: false, parameters: [string(name: 'X', value: 'y')]",
			refs: []ref{{"a", "1:12", "'a'"}}},
		{name: "named job, not first", src: "build propagate: false, job: 'a', wait: true",
			refs: []ref{{"a", "1:30", "'a'"}}},
		{name: "named job, string key", src: `build 'job': "a"`, refs: []ref{{"a", "1:14", `"a"`}}},
		{name: "named job in parentheses", src: "build(job: 'a', wait: false)", refs: []ref{{"a", "1:12", "'a'"}}},
		{name: "named job after positional", src: "build(wait: false, job: 'a')", refs: []ref{{"a", "1:25", "'a'"}}},
		{name: "result assigned", src: "def r = build job: 'a'\nx = build('b')",
			refs: []ref{{"a", "1:20", "'a'"}, {"b", "2:11", "'b'"}}},
		{name: "returned", src: "return build('a')", refs: []ref{{"a", "1:14", "'a'"}}},
		{name: "semicolons", src: "build 'a'; build 'b';build('c')",
			refs: []ref{{"a", "1:7", "'a'"}, {"b", "1:18", "'b'"}, {"c", "1:28", "'c'"}}},
		{name: "if and else without braces", src: "if (x) build 'a' else build 'b'",
			refs: []ref{{"a", "1:14", "'a'"}, {"b", "1:29", "'b'"}}},
		{name: "while without braces", src: "while (x) build 'a'", refs: []ref{{"a", "1:17", "'a'"}}},
		{name: "code line continuation", src: "build \\\n  'a'", refs: []ref{{"a", "2:3", "'a'"}}},
		{name: "CRLF line ends", src: "build 'a'\r\nbuild 'b'\r\n",
			refs: []ref{{"a", "1:7", "'a'"}, {"b", "2:7", "'b'"}}},
		{name: "columns count code points", src: "/* é日 */ build 'a'", refs: []ref{{"a", "1:16", "'a'"}}},

		// Multi-line calls.
		{name: "multi-line parentheses", src: `
build(
    job: 'a',
    wait: false,
    parameters: [
        string(name: 'X', value: "y"),
    ]
)
build 'b'`, refs: []ref{{"a", "3:10", "'a'"}, {"b", "9:7", "'b'"}}},
		{name: "command call continued after a comma", src: `
build propagate: false,
      job: 'a'
build 'b'`, refs: []ref{{"a", "3:12", "'a'"}, {"b", "4:7", "'b'"}}},
		{name: "command call continued after a bracket", src: `
build job: 'a', parameters: [
    string(name: 'X', value: 'y')
], wait: false
build 'b'`, refs: []ref{{"a", "2:12", "'a'"}, {"b", "5:7", "'b'"}}},
		{name: "command call ends at the line end", src: "build propagate: false\njob: 'a'",
			problems: []string{noJob("1:1")}},
		{name: "command call continued after an operator", src: "build job: 'a' +\n  'b'",
			problems: []string{dynamic("1:12")}},

		// Where build steps hide.
		{name: "closures of node and stage", src: `
node('linux') {
    stage('one') {
        build 'a'
        timeout(time: 5) { build job: 'b' }
    }
}`, refs: []ref{{"a", "4:15", "'a'"}, {"b", "5:39", "'b'"}}},
		{name: "parallel map of closures", src: `
parallel(
    a: { build 'a' },
    b: { build job: 'b', wait: false },
    failFast: true
)
parallel one: { build 'c' }, two: {
    build('d')
    build 'e'
}`, refs: []ref{
			{"a", "3:16", "'a'"}, {"b", "4:21", "'b'"}, {"c", "7:23", "'c'"}, {"d", "8:11", "'d'"}, {"e", "9:11", "'e'"},
		}},
		{name: "parallel map built in a loop", src: `
def branches = [:]
for (n in names) {
    branches[n] = { build job: 'a', parameters: [string(name: 'N', value: n)] }
}
parallel branches`, refs: []ref{{"a", "4:32", "'a'"}}},
		{name: "braced GString interpolation", src: `echo "result: ${build('a').result}"`,
			refs: []ref{{"a", "1:23", "'a'"}}},
		{name: "command call in an interpolation", src: `echo "${ build job: "a" } and ${build 'b'}"`,
			refs: []ref{{"a", "1:21", `"a"`}, {"b", "1:39", "'b'"}}},
		{name: "interpolation in triple quotes", src: "x = \"\"\"\n${\n  build 'a'\n}\"\"\"",
			refs: []ref{{"a", "3:9", "'a'"}}},
		{name: "interpolation in a slashy string", src: "x = /${build('a')}/", refs: []ref{{"a", "1:14", "'a'"}}},
		{name: "nested build in a parameter", src: "build job: 'a', parameters: [string(name: 'X', value: build('b').id)]",
			refs: []ref{{"a", "1:12", "'a'"}, {"b", "1:61", "'b'"}}},
		{name: "a command call ends another's arguments", src: "build 'a', build 'b', build job: 'c'",
			refs: []ref{{"a", "1:7", "'a'"}, {"b", "1:18", "'b'"}, {"c", "1:34", "'c'"}}},
		{name: "refs sorted when the job comes last", src: "build(parameters: [x: build('b')], job: 'a')",
			refs: []ref{{"b", "1:29", "'b'"}, {"a", "1:41", "'a'"}}},

		// Not build steps: comments and strings.
		{name: "line comment", src: "// build 'a'\nx = 1"},
		{name: "block comment", src: "/* build 'a'\n build('b') */"},
		{name: "single-quoted string", src: `echo 'build("a")'`},
		{name: "double-quoted string", src: `echo "build 'a' $x"`},
		{name: "triple-quoted string", src: "sh '''\nbuild 'a'\n'''"},
		{name: "GString text around an interpolation", src: `echo "build 'a' ${x} build('b')"`},
		{name: "slashy string", src: "x = /build 'a'/"},
		{name: "dollar slashy string", src: "x = $/build('a')/$"},
		{name: "path interpolation", src: `echo "$build 'a'"`},

		// Not build steps: other uses of the name.
		{name: "variable", src: "def build = 1\nbuild = 'a'\nString build = 'a'"},
		{name: "property and method of an object", src: "build.number\nx.build('a')\nthis.build('a')\nx?.build('a')\nx*.build('a')"},
		{name: "map key and label", src: "[build: 'a']\nf(build: 'a')\nbuild: 'a'"},
		{name: "method definitions", src: `
def build(String n) { n }
void build() { }
String build(x) { x }
private build(x) { x }
static List<String> build(a, b) throws Exception { [] }
int[] build(x) { }
class A { def build(String s) { s } }`},
		{name: "longer identifiers", src: "currentBuild.result = 'a'\nrebuild 'a'\nbuild_x 'a'\nbuilds('a')\n$build 'a'"},
		{name: "operands", src: "x = build + 'a'\nbuild == 'a'\nbuild / 'a'\nbuild in ['a']\nbuild as String\nbuild instanceof String"},
		{name: "argument of a command call", src: "println build\necho build 'a'"},
		{name: "on the next line", src: "build\n('a')\nbuild\n'a'"},
		{name: "constructor and annotation", src: "new build('a')\n@build('a') def x"},
		{name: "closure argument", src: "build { echo 'a' }\nbuild({ echo 'a' })"},

		// Problems: the job is not a string literal.
		{name: "variable name", src: "build name\nbuild(name)\nbuild job: name",
			problems: []string{dynamic("1:7"), dynamic("2:7"), dynamic("3:12")}},
		{name: "params property", src: "build job: params.JOB, wait: false", problems: []string{dynamic("1:12")}},
		{name: "GString with braces", src: `build "job-${x}"`, problems: []string{dynamic("1:7")}},
		{name: "GString with a path", src: `build(job: "$prefix-a")`, problems: []string{dynamic("1:12")}},
		{name: "concatenation", src: "build 'a' + b\nbuild(job: 'a' + 'b')", problems: []string{dynamic("1:7"), dynamic("2:12")}},
		{name: "method call", src: "build job: jobFor('x')\nbuild 'a'.trim()", problems: []string{dynamic("1:12"), dynamic("2:7")}},
		{name: "ternary", src: "build job: x ? 'a' : 'b'", problems: []string{dynamic("1:12")}},
		{name: "parenthesized", src: "build job: ('a')", problems: []string{dynamic("1:12")}},
		{name: "number", src: "build 42", problems: []string{dynamic("1:7")}},
		{name: "spread map", src: "build(*:args)", problems: []string{dynamic("1:7")}},
		{name: "no job", src: "build()\nbuild(wait: false)\nbuild propagate: false",
			problems: []string{noJob("1:1"), noJob("2:1"), noJob("3:1")}},
		{name: "empty value", src: "build(job:)", problems: []string{dynamic("1:10")}},
		{name: "problems and refs mixed, in source order", src: "node {\n  build job: \"$x\"\n  build 'a'\n  build(y)\n}",
			refs: []ref{{"a", "3:9", "'a'"}}, problems: []string{dynamic("2:14"), dynamic("4:9")}},
		{name: "problem inside an interpolation", src: `echo "${build(x)}"`, problems: []string{dynamic("1:15")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			refs, problems := refsOf(t, tt.src)
			if diff := cmp.Diff(tt.refs, refs); diff != "" {
				t.Errorf("refs in %q (-want +got):\n%s", tt.src, diff)
			}
			if diff := cmp.Diff(tt.problems, problems); diff != "" {
				t.Errorf("problems in %q (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

// TestRefsRewrite replaces the references as the compiler does and checks
// that the result still scans to the same calls.
func TestRefsRewrite(t *testing.T) {
	src := `
node {
    build 'a'
    build job: "b", wait: false
    echo "${build(/c/).result}"
    parallel x: { build($/d/$) }, y: { build '''e''' }
}`
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	last := 0
	for _, r := range f.Refs {
		out = append(out, src[last:r.Start]...)
		out = append(out, fmt.Sprintf("'%s-v1-0123456789ab'", r.Name)...)
		last = r.End
	}
	out = append(out, src[last:]...)
	g, err := Parse(out)
	if err != nil {
		t.Fatalf("rewritten source: %v\n%s", err, out)
	}
	var got []string
	for _, r := range g.Refs {
		got = append(got, r.Name)
	}
	want := []string{"a-v1-0123456789ab", "b-v1-0123456789ab", "c-v1-0123456789ab", "d-v1-0123456789ab", "e-v1-0123456789ab"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refs after rewriting (-want +got):\n%s", diff)
	}
}
