package groovy

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decl is a Decl as the tests state it: Text is src[Start:End].
type decl struct {
	Kind               DeclKind
	Name, Text         string
	StartLine, EndLine int
	OwnLines           bool
}

func declsOf(t *testing.T, src string) []decl {
	t.Helper()
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	var out []decl
	for _, d := range f.Decls {
		out = append(out, decl{d.Kind, d.Name, src[d.Start:d.End], d.StartLine, d.EndLine, d.OwnLines})
	}
	return out
}

func TestDecls(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []decl
	}{
		// Imports.
		{name: "imports", src: "import a.b.C\nimport static java.lang.Math.max\nimport d.*\nimport e.F as G\n", want: []decl{
			{Import, "a.b.C", "import a.b.C", 1, 1, true},
			{Import, "java.lang.Math.max", "import static java.lang.Math.max", 2, 2, true},
			{Import, "d.*", "import d.*", 3, 3, true},
			{Import, "e.F", "import e.F as G", 4, 4, true},
		}},
		{name: "imports sharing a line", src: "import a.B; import c.D\n", want: []decl{
			{Import, "a.B", "import a.B;", 1, 1, false},
			{Import, "c.D", "import c.D", 1, 1, false},
		}},
		{name: "annotated import", src: "@Library('lib@1.0') import com.x.Y\n", want: []decl{
			{Import, "com.x.Y", "@Library('lib@1.0') import com.x.Y", 1, 1, true},
		}},

		// Method definitions.
		{name: "def method", src: "def f(a, b = [x: 1]) {\n    a + b\n}\n", want: []decl{
			{Method, "f", "def f(a, b = [x: 1]) {\n    a + b\n}", 1, 3, true},
		}},
		{name: "typed methods", src: `
String f(String s) { s }
void g() {}
int h() { 1 }
a.b.Foo i() { null }
List<Map<String, List<Integer>>> j() { [] }
String[] k() { [] }
Map<String,
    Integer> l() { [:] }
`, want: []decl{
			{Method, "f", "String f(String s) { s }", 2, 2, true},
			{Method, "g", "void g() {}", 3, 3, true},
			{Method, "h", "int h() { 1 }", 4, 4, true},
			{Method, "i", "a.b.Foo i() { null }", 5, 5, true},
			{Method, "j", "List<Map<String, List<Integer>>> j() { [] }", 6, 6, true},
			{Method, "k", "String[] k() { [] }", 7, 7, true},
			{Method, "l", "Map<String,\n    Integer> l() { [:] }", 8, 9, true},
		}},
		{name: "modifiers and annotations", src: `
private f() {}
static def g() {}
@NonCPS
def h(list) { list.sort() }
@NonCPS @SuppressWarnings('x') private static String i() { '' }
`, want: []decl{
			{Method, "f", "private f() {}", 2, 2, true},
			{Method, "g", "static def g() {}", 3, 3, true},
			{Method, "h", "@NonCPS\ndef h(list) { list.sort() }", 4, 5, true},
			{Method, "i", "@NonCPS @SuppressWarnings('x') private static String i() { '' }", 6, 6, true},
		}},
		{name: "generic, throws, string name, brace on the next line", src: `
def <T> T f(T t) { t }
String g() throws IOException, InterruptedException { '' }
String h()
throws Exception { '' }
def "with space"() {}
def i()
{
}
`, want: []decl{
			{Method, "f", "def <T> T f(T t) { t }", 2, 2, true},
			{Method, "g", "String g() throws IOException, InterruptedException { '' }", 3, 3, true},
			{Method, "h", "String h()\nthrows Exception { '' }", 4, 5, true},
			{Method, "with space", `def "with space"() {}`, 6, 6, true},
			{Method, "i", "def i()\n{\n}", 7, 9, true},
		}},

		// Calls with a closure are statements, not method definitions.
		{name: "node and stage", src: "node('linux') {\n  stage('a') { echo 'x' }\n}\n"},
		{name: "pipeline steps with closures", src: `
timeout(time: 5, unit: 'MINUTES') { build 'a' }
retry(3) { sh 'make' }
withCredentials([string(credentialsId: 'c', variable: 'V')]) { sh 'echo $V' }
stage('b') {
}
foo() { }
`},
		{name: "command call with a closure argument", src: "echo bar(x) { 1 }\nfoo.bar baz() { }\n"},
		{name: "qualified call", src: "Foo.bar() { 1 }\na.b.c() {}\n"},
		{name: "capitalised call", src: "Foo('x') { }\n"},
		{name: "type and name on different lines", src: "Foo\nbar() { 1 }\n"},
		{name: "variables", src: "def x = { a -> a }\nString s = 'a'\nfinal y = 1\ndef (a, b) = [1, 2]\nMap m\n"},
		{name: "not at top level", src: "node {\n  def f() { }\n}\nclass A {\n  def g() { }\n}\n", want: []decl{
			{Class, "A", "class A {\n  def g() { }\n}", 4, 6, true},
		}},
		{name: "Jenkins library annotation", src: "@Library('lib') _\nnode { }\n"},
		{name: "method call without a body", src: "def f(x)\n", want: nil},

		// Classes.
		{name: "classes", src: `
class A {}
abstract class B extends A implements Serializable {
    def f() {}
}
interface I { void f() }
enum E { X, Y }
trait T {}
@interface Ann {}
@groovy.transform.ToString
class C
{
}
`, want: []decl{
			{Class, "A", "class A {}", 2, 2, true},
			{Class, "B", "abstract class B extends A implements Serializable {\n    def f() {}\n}", 3, 5, true},
			{Class, "I", "interface I { void f() }", 6, 6, true},
			{Class, "E", "enum E { X, Y }", 7, 7, true},
			{Class, "T", "trait T {}", 8, 8, true},
			{Class, "Ann", "@interface Ann {}", 9, 9, true},
			{Class, "C", "@groovy.transform.ToString\nclass C\n{\n}", 10, 13, true},
		}},

		// @Field variables.
		{name: "fields", src: `
@Field def x = 1
@groovy.transform.Field String s = "a"
@Field
final Map<String, List<String>> m = [
    a: ['b'],
]
@Field int n
@Field static final String T = 'a' +
    'b'
@Field def t = [1, 2]
    .collect { it * 2 }
@Field def u = 1; @Field def v = 2
`, want: []decl{
			{Field, "x", "@Field def x = 1", 2, 2, true},
			{Field, "s", `@groovy.transform.Field String s = "a"`, 3, 3, true},
			{Field, "m", "@Field\nfinal Map<String, List<String>> m = [\n    a: ['b'],\n]", 4, 7, true},
			{Field, "n", "@Field int n", 8, 8, true},
			{Field, "T", "@Field static final String T = 'a' +\n    'b'", 9, 10, true},
			{Field, "t", "@Field def t = [1, 2]\n    .collect { it * 2 }", 11, 12, true},
			{Field, "u", "@Field def u = 1;", 13, 13, false},
			{Field, "v", "@Field def v = 2", 13, 13, false},
		}},
		{name: "other annotations are not fields", src: "@Lazy def x = 1\n"},
		{name: "a string names only a method", src: "@Field def 'x' = 1\n@Field''\ndef ''() {}\n"},

		// OwnLines.
		{name: "code before on the line", src: "x = 1; def f() {}\n", want: []decl{
			{Method, "f", "def f() {}", 1, 1, false},
		}},
		{name: "code after on the line", src: "def f() {\n}; x = 1\n", want: []decl{
			{Method, "f", "def f() {\n}", 1, 2, false},
		}},
		{name: "class and method sharing a line", src: "class A {\n}; def f() {}\n", want: []decl{
			{Class, "A", "class A {\n}", 1, 2, false},
			{Method, "f", "def f() {}", 2, 2, false},
		}},
		{name: "comments within the lines", src: "/* a */ def f() {\n} // b\n", want: []decl{
			{Method, "f", "def f() {\n}", 1, 2, true},
		}},
		{name: "comment from an earlier line", src: "/* a\n */ def f() {\n}\n", want: []decl{
			{Method, "f", "def f() {\n}", 2, 3, false},
		}},
		{name: "comment to a later line", src: "def f() {\n} /* a\n */\n", want: []decl{
			{Method, "f", "def f() {\n}", 1, 2, false},
		}},
		{name: "multi-line string before", src: "x = '''a\n''' ; def f() {}\n", want: []decl{
			{Method, "f", "def f() {}", 2, 2, false},
		}},
		{name: "at the start and end of the file", src: "def f() {}", want: []decl{
			{Method, "f", "def f() {}", 1, 1, true},
		}},

		// A whole script: what the compiler hoists out of its timeout block.
		{name: "script", src: `#!/usr/bin/env groovy
import groovy.transform.Field

@Field def jobs = ['a', 'b'] // the jobs

@NonCPS
def sorted(list) {
    list.sort()
}

node {
    stage('build') {
        for (j in sorted(jobs)) {
            build j
        }
    }
}

String describe(r) { "${r.result}" }
`, want: []decl{
			{Import, "groovy.transform.Field", "import groovy.transform.Field", 2, 2, true},
			{Field, "jobs", "@Field def jobs = ['a', 'b']", 4, 4, true},
			{Method, "sorted", "@NonCPS\ndef sorted(list) {\n    list.sort()\n}", 6, 9, true},
			{Method, "describe", `String describe(r) { "${r.result}" }`, 19, 19, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, declsOf(t, tt.src)); diff != "" {
				t.Errorf("decls in %q (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestIdents(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{name: "code", src: "def x = foo(bar.baz) // qux\n/* quux */", want: []string{"bar", "baz", "foo", "x"}},
		{name: "keywords excluded", src: "if (a) { return new B() } else { c instanceof D }", want: []string{"B", "D", "a", "c"}},
		{name: "keywords after a dot are names", src: "params.in + x.def", want: []string{"def", "in", "params", "x"}},
		{name: "strings excluded", src: `f('a b', "c", '''d''', """e""", /g/, $/h/$)`, want: []string{"f"}},
		{name: "interpolations included", src: `f("a ${b.c} $d.e.f ${ "${g}" }", /$h/, $/${i}/$)`,
			want: []string{"b", "c", "d", "e", "f", "g", "h", "i"}},
		{name: "unique and sorted", src: "b(a); a(b); _z; $y; Z; é", want: []string{"$y", "Z", "_z", "a", "b", "é"}},
		{name: "none", src: "// nothing\n'text'\n1 + 2", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.src))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.src, err)
			}
			if diff := cmp.Diff(tt.want, f.Idents); diff != "" {
				t.Errorf("idents of %q (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestDeclKindString(t *testing.T) {
	got := []string{Import.String(), Method.String(), Class.String(), Field.String(), DeclKind(9).String()}
	want := []string{"import", "method", "class", "field", "DeclKind(9)"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DeclKind strings (-want +got):\n%s", diff)
	}
}
