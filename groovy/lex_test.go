package groovy

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tokens renders the tokens of src compactly: identifiers as id:x,
// keywords kw:x, numbers num:x, strings str:x, interpolated string parts
// sb:x sm:x se:x, punctuation as itself; "⏎" marks a significant newline.
func tokens(t *testing.T, src string) string {
	t.Helper()
	l := lexer{src: []byte(src)}
	if err := l.run(); err != nil {
		t.Fatalf("lexing %q: %v", src, err)
	}
	var out []string
	for _, tok := range l.toks[:len(l.toks)-1] {
		text := src[tok.start:tok.end]
		prefix := map[kind]string{
			kIdent: "id:", kKeyword: "kw:", kNumber: "num:", kString: "str:",
			kStrBegin: "sb:", kStrMid: "sm:", kStrEnd: "se:",
		}[tok.kind]
		if tok.nl {
			prefix = "⏎" + prefix
		}
		out = append(out, prefix+text)
	}
	return strings.Join(out, " ")
}

func TestLexTokens(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		// Division or slashy string, by the previous significant token.
		{"division after identifier", "a / b / c", "id:a / id:b / id:c"},
		{"division after number", "x = 4 /2/ 1", "id:x = num:4 / num:2 / num:1"},
		{"division after )", "(a) /b/ c", "( id:a ) / id:b / id:c"},
		{"division after ]", "a[0] /b/ c", "id:a [ num:0 ] / id:b / id:c"},
		{"division after } on the same line", "f { } /b/ c", "id:f { } / id:b / id:c"},
		{"division after string", `"a" /b/ c`, `str:"a" / id:b / id:c`},
		{"division after GString", `"$a" /b/ c`, `sb:"$ id:a se:" / id:b / id:c`},
		{"division after postfix ++", "a++ /b/ c", "id:a ++ / id:b / id:c"},
		{"division after this", "this /b/ c", "kw:this / id:b / id:c"},
		{"division after keyword property", "x.in /b/ c", "id:x . id:in / id:b / id:c"},
		{"divide-assign", "a /= 2", "id:a /= num:2"},
		{"slashy after =", "x = /a b/", "id:x = str:/a b/"},
		{"slashy after (", "f(/a/)", "id:f ( str:/a/ )"},
		{"slashy after ,", "f(1, /a/)", "id:f ( num:1 , str:/a/ )"},
		{"slashy after [", "[/a/]", "[ str:/a/ ]"},
		{"slashy after {", "{ /a/ }", "{ str:/a/ }"},
		{"slashy after :", "[k: /a/]", "[ id:k : str:/a/ ]"},
		{"slashy after operator", "x ==~ /a/", "id:x ==~ str:/a/"},
		{"slashy after return", "return /a/", "kw:return str:/a/"},
		{"slashy after case", "case /a/:", "kw:case str:/a/ :"},
		{"slashy at start", "/a/", "str:/a/"},
		{"slashy after newline", "x = 1\n/a/", "id:x = num:1 ⏎str:/a/"},
		{"slashy starting with =", "x = /=a/", "id:x = str:/=a/"},
		{"division after newline inside parens", "(a\n/b/ c)", "( id:a / id:b / id:c )"},
		{"slash at the end is division", "a +/", "id:a + /"},

		// Every string kind.
		{"single quotes", `'a"b\'c'`, `str:'a"b\'c'`},
		{"double quotes", `"a'b\"c"`, `str:"a'b\"c"`},
		{"empty strings", `'' ""`, `str:'' str:""`},
		{"triple single quotes", "'''a\n'b'\n'''", "str:'''a\n'b'\n'''"},
		{"triple double quotes", "\"\"\"a\n\"b\"\"\n\"\"\"", "str:\"\"\"a\n\"b\"\"\n\"\"\""},
		{"first closing triple quote ends", `"""a""""`, "" /* unterminated, see TestLexErrors */},
		{"escaped dollar", `"a\$b"`, `str:"a\$b"`},
		{"dollar in single quotes", `'$a ${b}'`, `str:'$a ${b}'`},
		{"slashy with escaped slash", `x = /a\/b\d/`, `id:x = str:/a\/b\d/`},
		{"slashy with trailing dollar", `x = /a$/`, `id:x = str:/a$/`},
		{"multi-line slashy", "x = /a\nb/", "id:x = str:/a\nb/"},
		{"dollar slashy", `x = $/a/b$$c$/d"'/$`, `id:x = str:$/a/b$$c$/d"'/$`},
		{"dollar slashy starting with slash", `x = $//a/$`, `id:x = str:$//a/$`},
		{"dollar after identifier is identifier", `a $/x/$`, `id:a id:$ / id:x / id:$`},
		{"dollar identifiers", `$x = $`, `id:$x = id:$`},
		{"line continuation in string", "\"a\\\nb\"", "str:\"a\\\nb\""},

		// GString interpolation.
		{"braced interpolation", `"a${b}c"`, `sb:"a${ id:b se:}c"`},
		{"two interpolations", `"${a}${b}"`, `sb:"${ id:a sm:}${ id:b se:}"`},
		{"empty interpolation", `"${}"`, `sb:"${ se:}"`},
		{"path interpolation", `"$a.b.c()"`, `sb:"$ id:a . id:b . id:c se:()"`},
		{"path stops before a non-name", `"$a.1 $b."`, `sb:"$ id:a sm:.1 $ id:b se:."`},
		{"path names exclude dollar", `"$a$b"`, `sb:"$ id:a sm:$ id:b se:"`},
		{"nested braces", `"${ [a: {x -> x}] }"`, `sb:"${ [ id:a : { id:x -> id:x } ] se:}"`},
		{"nested strings", `"${ "${'}'}" }"`, `sb:"${ sb:"${ str:'}' se:}" se:}"`},
		{"closing brace in nested string", `"${ m["}"] }"`, `sb:"${ id:m [ str:"}" ] se:}"`},
		{"multi-line interpolation in triple quotes", "\"\"\"${\na\n}\"\"\"", "sb:\"\"\"${ ⏎id:a ⏎se:}\"\"\""},
		{"slashy: a backslash does not escape a dollar", `/a\$b/`, `sb:/a\$ id:b se:/`},
		{"slashy interpolation", `/a${b}c$d/`, `sb:/a${ id:b sm:}c$ id:d se:/`},
		{"dollar slashy interpolation", `$/a${b}$c/$`, `sb:$/a${ id:b sm:}$ id:c se:/$`},
		{"slashy after interpolation start", `"${/a/}"`, `sb:"${ str:/a/ se:}"`},

		// Comments, shebang, line continuation.
		{"comments", "a // b 'c\n/* d\n\"e */ f", "id:a ⏎id:f"},
		{"comment-like text in strings", `"//" '/*'`, `str:"//" str:'/*'`},
		{"shebang", "#!/usr/bin/env groovy\nx", "⏎id:x"},
		{"code line continuation", "a \\\n+ b", "id:a + id:b"},
		{"byte order mark", "\ufeffx", "id:x"},

		// Numbers, identifiers, operators.
		{"numbers", "0x1F 0b101 1_000L 1.5e-3f 2g 07 1.0G 1e5", "num:0x1F num:0b101 num:1_000L num:1.5e-3f num:2g num:07 num:1.0G num:1e5"},
		{"range and method on number", "1..2 1.abs() 1.e2", "num:1 .. num:2 num:1 . id:abs ( ) num:1 . id:e2"},
		{"one suffix letter", "2gb 0x1Fbuild", "num:2g id:b num:0x1Fb id:uild"},
		{"unicode identifiers", "é + ü2 + 日本", "id:é + id:ü2 + id:日本"},
		{"operators", "a?.b*.c.&d.@e ?: f ==~ g =~ h <=> i >>>= 1 **= 2 ..< 3 -> x",
			"id:a ?. id:b *. id:c .& id:d .@ id:e ?: id:f ==~ id:g =~ id:h <=> id:i >>>= num:1 **= num:2 ..< num:3 -> id:x"},
		{"keywords", "def x = new Foo() instanceof Bar", "kw:def id:x = kw:new id:Foo ( ) kw:instanceof id:Bar"},
		{"soft keywords after a dot", "x.def x?.def", "id:x . id:def id:x ?. kw:def"},

		// Significant newlines: at top level and in braces, not in () or [].
		{"newlines", "a\nf(b,\nc) [d,\ne] {\ng\n}", "id:a ⏎id:f ( id:b , id:c ) [ id:d , id:e ] { ⏎id:g ⏎}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.want == "" {
				return
			}
			if diff := cmp.Diff(tt.want, tokens(t, tt.src)); diff != "" {
				t.Errorf("tokens of %q (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestLexErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"unterminated single quotes", "x = 'abc", "1:5: unterminated string literal"},
		{"line break in single quotes", "x = 'a\nb'", "1:5: unterminated string literal"},
		{"line break in double quotes", "\n  x = \"a\nb\"", "2:7: unterminated string literal"},
		{"unterminated triple quotes", "x = '''a\n\n", "1:5: unterminated string literal"},
		{"unterminated triple double quotes", "x = \"\"\"a\nb", "1:5: unterminated string literal"},
		{"first closing triple quote ends", `x = """a""""`, "1:12: unterminated string literal"},
		{"unterminated slashy", "x = /abc", "1:5: unterminated string literal"},
		{"unterminated dollar slashy", "x = $/abc/", "1:5: unterminated string literal"},
		{"unterminated comment", "a\n /* b", "2:2: unterminated comment"},
		{"unterminated interpolation", "x = \"\"\"${a", "1:8: unterminated GString interpolation ${…}"},
		{"line break in interpolation", "x = \"${a\n}\"", "1:5: unterminated string literal"},
		{"line comment in interpolation", "x = \"${a // }\"\n", "1:5: unterminated string literal"},
		{"mismatched bracket", "foo(a]", "1:6: ']' does not match '(' at 1:4"},
		{"mismatched interpolation", `"${a)}"`, "1:5: ')' does not match '${' at 1:2"},
		{"closing bracket without opening", "x)", "1:2: unexpected ')' with no matching '('"},
		{"unclosed brace", "node {\n  stage('a') {\n}", "1:6: unclosed '{'"},
		{"illegal dollar", `x = "cost $5"`, "1:11: illegal '$' in string: escape a literal dollar sign as \"\\$\" or bracket the expression as \"${…}\""},
		{"dollar at end of path", `x = "$a.b$"`, "1:10: illegal '$' in string: escape a literal dollar sign as \"\\$\" or bracket the expression as \"${…}\""},
		{"invalid escape", `x = 'a\qb'`, `1:7: invalid escape sequence '\q'`},
		{"invalid escape in double quotes", `x = "a\/b"`, `1:7: invalid escape sequence '\/'`},
		{"invalid unicode escape", `x = "\u00zz"`, `1:6: invalid unicode escape: want \u and four hex digits`},
		{"hash", "x = 1 # 2", "1:7: unexpected character '#'"},
		{"stray backslash", `x = 1 \ 2`, `1:7: unexpected character '\'`},
		{"backtick", "x = `a`", "1:5: unexpected character '`'"},
		{"no-break space", "x\u00a0= 1", "1:2: unexpected character '\\u00a0'"},
		{"control character", "x\x01", "1:2: unexpected character '\\x01'"},
		{"invalid UTF-8", "x = \xff", "1:5: invalid UTF-8 encoding"},
		{"columns count code points", "é = 'a\n", "1:5: unterminated string literal"},
		{"shebang only on line 1", "x\n#!/bin/sh", "2:1: unexpected character '#'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error %q", tt.src, f, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T, want *Error", tt.src, err)
			}
			if f != nil {
				t.Errorf("Parse(%q) returned a File with its error", tt.src)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("Parse(%q) error (-want +got):\n%s", tt.src, diff)
			}
		})
	}
}

func TestErrorPos(t *testing.T) {
	_, err := Parse([]byte("a = 1\nb = 'é\n"))
	want := &Error{Pos: Pos{Offset: 10, Line: 2, Col: 5}, Msg: "unterminated string literal"}
	if diff := cmp.Diff(want, err); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

func TestStringValues(t *testing.T) {
	tests := []struct {
		name, literal, want string
	}{
		{"single quotes", `'a b'`, "a b"},
		{"escapes", `'\n\r\t\b\f\"\'\\\$'`, "\n\r\t\b\f\"'\\$"},
		{"double quotes", `"a\"b\$c"`, `a"b$c`},
		{"unicode escapes", `"\u0041\uu00e9\u65E5"`, "Aé日"},
		{"surrogate pair", `"\uD83D\uDE00"`, "😀"},
		{"lone surrogate", `"\uD83Dx"`, "\uFFFDx"},
		{"octal escapes", `'\0\7\101\377\400'`, "\x00\x07A\u00ff\x200"},
		{"line continuation", "'a\\\nb'", "ab"},
		{"line continuation with CRLF", "'a\\\r\nb'", "ab"},
		{"triple quotes", "'''a\n\"b\"\n'''", "a\n\"b\"\n"},
		{"triple quotes normalise CRLF", "\"\"\"a\r\nb\"\"\"", "a\nb"},
		{"triple quotes with escape", `'''a\'''b'''`, "a'''b"},
		{"empty", `""`, ""},
		{"empty triple", `''''''`, ""},
		{"slashy", `/a\/b\d\$ c$/`, `a/b\d\$ c$`},
		{"slashy line continuation", "/a\\\nb/", "ab"},
		{"dollar slashy", `$/a$/b$$c\d/e/$`, `a/b$c\d/e`},
		{"dollar slashy line continuation", "$/a\\\nb/$", "ab"},
		{"non-ASCII", `'日本'`, "日本"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "x = " + tt.literal
			l := lexer{src: []byte(src)}
			if err := l.run(); err != nil {
				t.Fatalf("lexing %q: %v", src, err)
			}
			tok := &l.toks[2]
			if tok.kind != kString || tok.start != 4 || int(tok.end) != len(src) {
				t.Fatalf("lexing %q: token 2 is %+v, want the whole literal", src, *tok)
			}
			p := newParser(&l)
			if diff := cmp.Diff(tt.want, p.value(tok)); diff != "" {
				t.Errorf("value of %s (-want +got):\n%s", tt.literal, diff)
			}
		})
	}
}
