package groovy

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind is a token kind.
type kind uint8

const (
	kEOF      kind = iota
	kIdent         // an identifier
	kKeyword       // a reserved word
	kNumber        // a number literal
	kString        // a whole string literal without interpolation
	kStrBegin      // an interpolated string from its opening delimiter through its first "${" or "$"
	kStrMid        // an interpolated string's text between two interpolations, from the "}" that closes the previous one
	kStrEnd        // an interpolated string's text after its last interpolation, through the closing delimiter
	kLParen
	kRParen
	kLBrack
	kRBrack
	kLBrace
	kRBrace
	kComma
	kSemi
	kColon
	kQuestion
	kDot    // . ?. *. .& .@
	kAssign // = and the compound assignments
	kArrow  // ->
	kAt     // @
	kIncDec // ++ --
	kLT     // <
	kGT     // > >> >>>
	kOp     // every other operator
)

// token is a lexical token. Interpolated strings are split: kStrBegin, the
// tokens of the first interpolation, kStrMid, …, kStrEnd; for bracket
// matching kStrBegin opens, kStrEnd closes and kStrMid does both.
type token struct {
	start, end int32 // byte offsets
	// match is, for an opening bracket, the index of its closing bracket
	// and the other way round; for kStrBegin and kStrEnd, the index of the
	// other end of the string.
	match int32
	kind  kind
	nl    bool // a significant newline precedes the token
}

// strKind is the kind of a string literal, by its delimiters.
type strKind uint8

const (
	sqString     strKind = iota // '…'
	dqString                    // "…"
	tsqString                   // '''…'''
	tdqString                   // """…"""
	slashy                      // /…/
	dollarSlashy                // $/…/$
)

// frame is an open bracket or GString interpolation.
type frame struct {
	kind  byte // '(', '[', '{', or '$' for a ${…} interpolation
	open  int  // token index of the opening bracket, or of the string's kStrBegin
	start int  // offset of the opening bracket or of the "${"
	// for '$':
	quote  strKind
	qstart int // offset of the string's opening delimiter
	// lock is the offset of the opening delimiter of the innermost
	// single-line string ("…" or /…/) whose interpolation this frame is
	// in, or -1: Groovy allows no line break there.
	lock int
}

type span struct{ start, end int }

type lexer struct {
	src []byte
	// str is src as a string: identifiers, names and literal values are
	// substrings of this one copy rather than an allocation each.
	str      string
	pos      int
	toks     []token
	stack    []frame
	nl       bool // a significant newline was seen since the last token
	comments []span
	idents   map[string]struct{}
	err      *Error
}

// Keyword categories.
const (
	kwModifier  = 1 << iota // may start a declaration
	kwPrimitive             // a built-in type
	kwValue                 // ends an expression: this, super, true, false, null
	kwExprStart             // a slashy string may follow: return, case, …
	kwNotCallee             // "build" after it is not a call: def, new, class, …
)

// keyword reports whether w is a Groovy 2.4 keyword, and its categories.
func keyword(w []byte) (flags uint8, ok bool) {
	switch string(w) {
	case "abstract", "final", "native", "private", "protected", "public", "static", "strictfp",
		"synchronized", "threadsafe", "transient", "volatile":
		return kwModifier, true
	case "boolean", "byte", "char", "short", "int", "long", "float", "double", "void":
		return kwPrimitive, true
	case "this", "super", "true", "false", "null":
		return kwValue, true
	case "return", "case", "in", "assert", "throw", "else":
		return kwExprStart, true
	case "def", "new", "class", "interface", "enum", "trait", "import", "package",
		"extends", "implements", "throws", "as", "instanceof", "goto":
		return kwNotCallee, true
	case "break", "catch", "const", "continue", "default", "do", "finally",
		"for", "if", "switch", "try", "while":
		return 0, true
	}
	return 0, false
}

func (l *lexer) fail(off int, format string, args ...any) {
	if l.err == nil {
		ls := lines{src: l.src}
		l.err = &Error{Pos: ls.pos(off), Msg: fmt.Sprintf(format, args...)}
	}
}

func (l *lexer) emit(k kind, start, end int) int {
	l.toks = append(l.toks, token{start: int32(start), end: int32(end), kind: k, nl: l.nl, match: -1})
	l.nl = false
	return len(l.toks) - 1
}

func (l *lexer) at(i int) byte {
	if i < len(l.src) {
		return l.src[i]
	}
	return 0
}

// run tokenizes l.src, appending a kEOF token.
func (l *lexer) run() error {
	l.toks = make([]token, 0, len(l.src)/5+8)
	l.stack = make([]frame, 0, 16)
	l.comments = make([]span, 0, 8)
	l.idents = make(map[string]struct{}, 32)
	l.str = string(l.src)
	if bytes.HasPrefix(l.src, []byte("\xef\xbb\xbf")) { // a byte order mark
		l.pos = 3
	}
	if bytes.HasPrefix(l.src[l.pos:], []byte("#!")) {
		start := l.pos
		l.skipLine()
		l.comments = append(l.comments, span{start, l.pos})
	}
	for l.err == nil && l.pos < len(l.src) {
		l.next()
	}
	if l.err == nil && len(l.stack) > 0 {
		f := l.stack[len(l.stack)-1]
		if f.kind == '$' {
			l.fail(f.start, "unterminated GString interpolation ${…}")
		} else {
			l.fail(f.start, "unclosed '%c'", f.kind)
		}
	}
	if l.err != nil {
		return l.err
	}
	l.emit(kEOF, len(l.src), len(l.src))
	return nil
}

func (l *lexer) skipLine() {
	if i := bytes.IndexByte(l.src[l.pos:], '\n'); i >= 0 {
		l.pos += i
	} else {
		l.pos = len(l.src)
	}
}

func (l *lexer) top() *frame {
	if len(l.stack) == 0 {
		return nil
	}
	return &l.stack[len(l.stack)-1]
}

// lock returns the offset of the single-line string code at this point is
// interpolated in, or -1.
func (l *lexer) lock() int {
	if f := l.top(); f != nil {
		return f.lock
	}
	return -1
}

// nlSignificant reports whether a newline here may end a statement:
// outside brackets or directly inside braces, not inside () or [].
func (l *lexer) nlSignificant() bool {
	f := l.top()
	return f == nil || f.kind == '{' || f.kind == '$'
}

// regexAllowed reports whether a '/' here starts a slashy string rather
// than being the division operator, by the previous significant token as
// Groovy's lexer decides. Unlike Groovy 2.4 (which lexes '/' after every
// keyword as division, a syntax error in these cases) it lets keywords
// such as return start a slashy string, as Groovy 3 does.
func (l *lexer) regexAllowed() bool {
	if l.nl || len(l.toks) == 0 {
		return true
	}
	t := &l.toks[len(l.toks)-1]
	switch t.kind {
	case kIdent, kNumber, kString, kStrEnd, kRParen, kRBrack, kRBrace, kIncDec:
		return false
	case kKeyword:
		flags, _ := keyword(l.src[t.start:t.end])
		return flags&kwExprStart != 0
	}
	return true
}

// next scans one token, or whitespace, or a comment.
func (l *lexer) next() {
	c := l.src[l.pos]
	switch {
	case c == ' ' || c == '\t' || c == '\f' || c == '\r':
		l.pos++
	case c == '\n':
		if q := l.lock(); q >= 0 {
			l.fail(q, "unterminated string literal")
			return
		}
		if l.nlSignificant() {
			l.nl = true
		}
		l.pos++
	case c == '\\':
		switch {
		case l.at(l.pos+1) == '\n':
			l.pos += 2
		case l.at(l.pos+1) == '\r' && l.at(l.pos+2) == '\n':
			l.pos += 3
		default:
			l.fail(l.pos, "unexpected character '\\'")
		}
	case c == '/' && l.at(l.pos+1) == '/':
		start := l.pos
		l.skipLine()
		l.comments = append(l.comments, span{start, l.pos})
	case c == '/' && l.at(l.pos+1) == '*':
		i := bytes.Index(l.src[l.pos+2:], []byte("*/"))
		if i < 0 {
			l.fail(l.pos, "unterminated comment")
			return
		}
		l.comments = append(l.comments, span{l.pos, l.pos + 2 + i + 2})
		l.pos += 2 + i + 2
	case c == '/' && l.pos+1 < len(l.src) && l.regexAllowed(): // a '/' at the end is division
		start := l.pos
		l.pos++
		l.scanString(slashy, start, start, -1)
	case c == '$' && l.at(l.pos+1) == '/' && l.pos+2 < len(l.src) && l.regexAllowed():
		start := l.pos
		l.pos += 2
		l.scanString(dollarSlashy, start, start, -1)
	case c == '\'' || c == '"':
		start := l.pos
		q := sqString
		if c == '"' {
			q = dqString
		}
		if l.at(l.pos+1) == c && l.at(l.pos+2) == c {
			q += tsqString - sqString
			l.pos += 3
		} else {
			l.pos++
		}
		l.scanString(q, start, start, -1)
	case c >= '0' && c <= '9':
		l.number()
	case c == '(' || c == '[' || c == '{':
		k := kLParen
		if c == '[' {
			k = kLBrack
		} else if c == '{' {
			k = kLBrace
		}
		i := l.emit(k, l.pos, l.pos+1)
		l.stack = append(l.stack, frame{kind: c, open: i, start: l.pos, lock: l.lock()})
		l.pos++
	case c == ')' || c == ']' || c == '}':
		l.close(c)
	case c < utf8.RuneSelf && !isIdentStart(rune(c)):
		l.operator()
	default:
		l.ident()
	}
}

func (l *lexer) close(c byte) {
	open, k := byte('('), kRParen
	if c == ']' {
		open, k = '[', kRBrack
	} else if c == '}' {
		open, k = '{', kRBrace
	}
	top := l.top()
	if top == nil {
		l.fail(l.pos, "unexpected '%c' with no matching '%c'", c, open)
		return
	}
	f := *top
	switch {
	case c == '}' && f.kind == '$':
		// The end of a ${…} interpolation: back into the string.
		l.stack = l.stack[:len(l.stack)-1]
		from := l.pos
		l.pos++
		l.scanString(f.quote, f.qstart, from, f.open)
	case f.kind != open:
		ls := lines{src: l.src}
		what := string(f.kind)
		if f.kind == '$' {
			what = "${"
		}
		l.fail(l.pos, "'%c' does not match '%s' at %s", c, what, ls.pos(f.start))
	default:
		i := l.emit(k, l.pos, l.pos+1)
		l.toks[i].match = int32(f.open)
		l.toks[f.open].match = int32(i)
		l.stack = l.stack[:len(l.stack)-1]
		l.pos++
	}
}

// rune returns the rune at i and its size; an invalid encoding is
// utf8.RuneError with size 1.
func (l *lexer) rune(i int) (rune, int) {
	if i >= len(l.src) {
		return 0, 0
	}
	if c := l.src[i]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	return utf8.DecodeRune(l.src[i:])
}

// isIdentStart reports whether r may start an identifier. Like Groovy 2.4,
// every character from U+00C0 up is a letter, except × and ÷.
func isIdentStart(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == '$' ||
		r >= 0xC0 && r != 0xD7 && r != 0xF7 && r != utf8.RuneError
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || r >= '0' && r <= '9'
}

// isPathStart reports whether r may follow a '$' in a GString to start
// a $name interpolation.
func isPathStart(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_'
	}
	return isIdentStart(r) && (unicode.IsLetter(r) || unicode.In(r, unicode.Sc, unicode.Pc, unicode.Nl))
}

// identEnd returns the end of the identifier starting at i; dollar tells
// whether '$' is an identifier character (in code, not in $name paths).
func (l *lexer) identEnd(i int, dollar bool) int {
	for i < len(l.src) {
		if c := l.src[i]; c < utf8.RuneSelf {
			if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' && dollar {
				i++
				continue
			}
			break
		}
		r, n := l.rune(i)
		if !isIdentPart(r) || r == '$' && !dollar {
			break
		}
		i += n
	}
	return i
}

func (l *lexer) ident() {
	r, n := l.rune(l.pos)
	if !isIdentStart(r) {
		if r == utf8.RuneError && n == 1 {
			l.fail(l.pos, "invalid UTF-8 encoding")
		} else {
			l.fail(l.pos, "unexpected character %q", r)
		}
		return
	}
	end := l.identEnd(l.pos+n, true)
	l.word(l.pos, end)
	l.pos = end
}

// word emits an identifier or keyword token. As in Groovy, the keywords
// as, def, in, package and trait are identifiers after a '.' (params.in).
func (l *lexer) word(start, end int) {
	w := l.src[start:end]
	soft := false
	if prev := len(l.toks) - 1; !l.nl && prev >= 0 && l.toks[prev].kind == kDot && l.toks[prev].end-l.toks[prev].start == 1 {
		switch string(w) {
		case "as", "def", "in", "package", "trait":
			soft = true
		}
	}
	if _, ok := keyword(w); ok && !soft {
		l.emit(kKeyword, start, end)
		return
	}
	l.emit(kIdent, start, end)
	l.idents[l.str[start:end]] = struct{}{}
}

func (l *lexer) identList() []string {
	out := make([]string, 0, len(l.idents))
	for id := range l.idents {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number scans a number literal as Groovy does: decimal or octal digits
// with a fraction and an exponent, or hex or binary digits, then at most
// one type suffix letter; underscores may separate digits.
func (l *lexer) number() {
	i := l.pos
	digits := func(ok func(byte) bool) {
		for i < len(l.src) && (ok(l.src[i]) || l.src[i] == '_') {
			i++
		}
	}
	suffixes := "lLgGiIdDfF"
	switch x := l.at(i + 1); {
	case l.src[i] == '0' && (x == 'x' || x == 'X'):
		i += 2
		digits(isHex)
		suffixes = "lLgGiI"
	case l.src[i] == '0' && (x == 'b' || x == 'B'):
		i += 2
		digits(func(c byte) bool { return c == '0' || c == '1' })
		suffixes = "lLgGiI"
	default:
		digits(isDigit)
		if l.at(i) == '.' && isDigit(l.at(i+1)) { // a fraction, not a range or a method call
			i++
			digits(isDigit)
			suffixes = "gGdDfF"
		}
		if e := l.at(i); e == 'e' || e == 'E' {
			j := i + 1
			if l.at(j) == '+' || l.at(j) == '-' {
				j++
			}
			if isDigit(l.at(j)) {
				i = j
				digits(isDigit)
				suffixes = "gGdDfF"
			}
		}
	}
	if c := l.at(i); c != 0 && strings.IndexByte(suffixes, c) >= 0 {
		i++
	}
	l.emit(kNumber, l.pos, i)
	l.pos = i
}

// operator scans an operator or punctuation character.
func (l *lexer) operator() {
	at := func(i int) byte { return l.at(l.pos + i) }
	n, k := 1, kOp
	switch at(0) {
	case ',':
		k = kComma
	case ';':
		k = kSemi
	case ':':
		k = kColon
	case '@':
		k = kAt
	case '~':
	case '?':
		switch at(1) {
		case '.':
			n, k = 2, kDot
		case ':':
			n = 2
		default:
			k = kQuestion
		}
	case '.':
		switch at(1) {
		case '.':
			n = 2
			if at(2) == '<' || at(2) == '.' {
				n = 3
			}
		case '&', '@':
			n, k = 2, kDot
		default:
			k = kDot
		}
	case '*':
		switch at(1) {
		case '.':
			n, k = 2, kDot
		case '*':
			n = 2
			if at(2) == '=' {
				n, k = 3, kAssign
			}
		case '=':
			n, k = 2, kAssign
		}
	case '=':
		switch at(1) {
		case '=':
			n = 2
			if at(2) == '~' {
				n = 3
			}
		case '~':
			n = 2
		default:
			k = kAssign
		}
	case '!':
		if at(1) == '=' {
			n = 2
		}
	case '<':
		switch at(1) {
		case '=':
			n = 2
			if at(2) == '>' {
				n = 3
			}
		case '<':
			n = 2
			if at(2) == '=' {
				n, k = 3, kAssign
			}
		default:
			k = kLT
		}
	case '>':
		switch {
		case at(1) == '=':
			n = 2
		case at(1) == '>' && at(2) == '>' && at(3) == '=':
			n, k = 4, kAssign
		case at(1) == '>' && at(2) == '>':
			n, k = 3, kGT
		case at(1) == '>' && at(2) == '=':
			n, k = 3, kAssign
		case at(1) == '>':
			n, k = 2, kGT
		default:
			k = kGT
		}
	case '&', '|':
		if at(1) == at(0) {
			n = 2
		} else if at(1) == '=' {
			n, k = 2, kAssign
		}
	case '+', '-':
		switch {
		case at(1) == at(0):
			n, k = 2, kIncDec
		case at(1) == '=':
			n, k = 2, kAssign
		case at(0) == '-' && at(1) == '>':
			n, k = 2, kArrow
		}
	case '^', '%', '/':
		if at(1) == '=' {
			n, k = 2, kAssign
		}
	default:
		c := at(0)
		if c == '#' || c == '`' || c > ' ' && c < utf8.RuneSelf {
			l.fail(l.pos, "unexpected character '%c'", c)
		} else {
			l.fail(l.pos, "unexpected character %q", rune(c))
		}
		return
	}
	l.emit(k, l.pos, l.pos+n)
	l.pos += n
}

// scanString scans the body of a string literal of kind q from l.pos, up
// to and including its closing delimiter or its next "${". qstart is the
// offset of the opening delimiter, from that of the current part, and
// begin the index of the string's kStrBegin token or -1 while no
// interpolation has been seen.
func (l *lexer) scanString(q strKind, qstart, from, begin int) {
	src := l.src
	i := l.pos
	for {
		if i >= len(src) {
			l.fail(qstart, "unterminated string literal")
			return
		}
		c := src[i]
		switch {
		case c == '\n' && (q == sqString || q == dqString):
			l.fail(qstart, "unterminated string literal")
			return
		case c == '\\' && q <= tdqString:
			n := l.escape(i)
			if n == 0 {
				return
			}
			i += n
		case c == '\\' && q == slashy:
			switch {
			case l.at(i+1) == '/' || l.at(i+1) == '\n':
				i += 2
			case l.at(i+1) == '\r' && l.at(i+2) == '\n':
				i += 3
			default:
				i++
			}
		case c == '$' && q != sqString && q != tsqString:
			next := l.at(i + 1)
			if q == dollarSlashy && (next == '$' || next == '/') {
				i += 2
				continue
			}
			if next == '{' {
				begin = l.part(from, i+2, begin)
				l.stack = append(l.stack, frame{kind: '$', open: begin, start: i, quote: q, qstart: qstart, lock: l.interpLock(q, qstart)})
				return
			}
			if r, _ := l.rune(i + 1); isPathStart(r) {
				l.pos = i + 1
				begin = l.part(from, l.pos, begin)
				l.path()
				i, from = l.pos, l.pos
				continue
			}
			if q == dqString || q == tdqString {
				l.fail(i, `illegal '$' in string: escape a literal dollar sign as "\$" or bracket the expression as "${…}"`)
				return
			}
			i++
		case q == sqString && c == '\'' || q == dqString && c == '"' || q == slashy && c == '/':
			l.finish(from, i+1, begin)
			return
		case q == tsqString && c == '\'' || q == tdqString && c == '"':
			if l.at(i+1) == c && l.at(i+2) == c {
				l.finish(from, i+3, begin)
				return
			}
			i++
		case q == dollarSlashy && c == '/' && l.at(i+1) == '$' && i > qstart+2: // a '/' right after "$/" is text
			l.finish(from, i+2, begin)
			return
		default:
			i++
		}
	}
}

// interpLock returns the lock for code interpolated in a string of kind q.
func (l *lexer) interpLock(q strKind, qstart int) int {
	if q == dqString || q == slashy {
		return qstart
	}
	return l.lock()
}

// part emits the part of an interpolated string that ends at end, and
// returns the index of the string's kStrBegin token.
func (l *lexer) part(from, end, begin int) int {
	l.pos = end
	if begin < 0 {
		return l.emit(kStrBegin, from, end)
	}
	l.emit(kStrMid, from, end)
	return begin
}

// finish emits the last part of a string, which ends at end.
func (l *lexer) finish(from, end, begin int) {
	l.pos = end
	if begin < 0 {
		l.emit(kString, from, end)
		return
	}
	i := l.emit(kStrEnd, from, end)
	l.toks[i].match = int32(begin)
	l.toks[begin].match = int32(i)
}

// path scans a $name.prop.prop interpolation from the name.
func (l *lexer) path() {
	for {
		_, n := l.rune(l.pos)
		end := l.identEnd(l.pos+n, false)
		l.word(l.pos, end)
		l.pos = end
		if l.at(end) != '.' {
			return
		}
		if r, _ := l.rune(end + 1); !isPathStart(r) {
			return
		}
		l.emit(kDot, end, end+1)
		l.pos = end + 1
	}
}

// escape checks the escape sequence at i in a quoted string and returns
// its length, or 0 after reporting an invalid one.
func (l *lexer) escape(i int) int {
	c := l.at(i + 1)
	switch c {
	case 'n', 'r', 't', 'b', 'f', '"', '\'', '\\', '$', '\n':
		return 2
	case '\r':
		if l.at(i+2) == '\n' {
			return 3
		}
		return 2
	case 'u':
		j := i + 2
		for l.at(j) == 'u' {
			j++
		}
		for k := 0; k < 4; k++ {
			if !isHex(l.at(j + k)) {
				l.fail(i, "invalid unicode escape: want \\u and four hex digits")
				return 0
			}
		}
		return j + 4 - i
	case '0', '1', '2', '3', '4', '5', '6', '7':
		n := 2
		max := 3
		if c >= '4' {
			max = 2
		}
		for n-1 < max && isOctal(l.at(i+n)) {
			n++
		}
		return n
	}
	if r, _ := l.rune(i + 1); r >= ' ' {
		l.fail(i, "invalid escape sequence '\\%c'", r)
	} else {
		l.fail(i, "invalid escape sequence")
	}
	return 0
}

func isHex(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
