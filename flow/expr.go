package flow

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jobctl/jobctl/jobs"
)

// Pos is a place in the user's file; Line and Col are 1-based.
type Pos struct {
	Line, Col int
}

// Type is the static type of an expression. Any means "known only at run
// time" (an output declared as any, or an object's undeclared fields).
type Type string

const (
	Any     Type = "any"
	Null    Type = "null"
	String  Type = "string"
	Number  Type = "number"
	Integer Type = "integer"
	Boolean Type = "boolean"
	Object  Type = "object"
	Array   Type = "array"
)

func (t Type) numeric() bool { return t == Number || t == Integer }
func (t Type) scalar() bool  { return t != Object && t != Array }

// article names a type with its article, for messages: "a string", "an object".
func (t Type) article() string {
	switch t {
	case Any, Integer, Object, Array:
		return "an " + string(t)
	case Null:
		return "null"
	}
	return "a " + string(t)
}

// An Expr is a typed expression. Its type is set when the flow is checked
// (Parse); an expression from ParseExpr alone has type Any everywhere.
type Expr interface {
	// Position is where the expression starts in the user's file.
	Position() Pos
	// Type is the expression's static type.
	Type() Type
	// Eval computes the expression's value.
	Eval(env Env) (Value, error)
}

// Lit is a literal: a 'string', a number, true, false or null.
type Lit struct {
	Pos Pos
	// Val is nil, bool, float64 or string.
	Val Value
	T   Type
}

// ParamRef reads a param of the orchestration: params.NAME.
type ParamRef struct {
	Pos     Pos
	Name    string
	NamePos Pos
	T       Type
}

// StepRef reads what an earlier step reported: <step>.status,
// <step>.reason or <step>.data[.path...].
type StepRef struct {
	Pos  Pos
	Step string
	// Field is "status", "reason" or "data".
	Field string
	// Path is the path inside data (empty for the whole data object).
	Path []string
	// PathPos holds the position of each element of Path.
	PathPos []Pos
	T       Type
}

// Unary is !X.
type Unary struct {
	Pos Pos
	Op  string
	X   Expr
}

// Binary is X op Y with op one of == != < <= > >= && ||.
type Binary struct {
	Op   string
	X, Y Expr
	// OpPos is the operator's position; the expression's own position is X's.
	OpPos Pos
}

// Template is a string with ${expr} interpolations; its type is string.
type Template struct {
	Pos   Pos
	Parts []Part
}

// Map is a YAML mapping used as a value: a JSON object whose fields are
// expressions. Passed to a string param, it is sent as JSON text.
type Map struct {
	Pos    Pos
	Fields []*Arg
}

// List is a YAML sequence used as a value: a JSON array of expressions.
type List struct {
	Pos   Pos
	Items []Expr
}

// Part is one piece of a Template: literal text, or an expression when Expr
// is not nil.
type Part struct {
	Text string
	Expr Expr
}

func (e *Lit) Position() Pos      { return e.Pos }
func (e *ParamRef) Position() Pos { return e.Pos }
func (e *StepRef) Position() Pos  { return e.Pos }
func (e *Unary) Position() Pos    { return e.Pos }
func (e *Binary) Position() Pos   { return e.X.Position() }
func (e *Template) Position() Pos { return e.Pos }
func (e *Map) Position() Pos      { return e.Pos }
func (e *List) Position() Pos     { return e.Pos }

func (e *Lit) Type() Type      { return orAny(e.T) }
func (e *ParamRef) Type() Type { return orAny(e.T) }
func (e *StepRef) Type() Type  { return orAny(e.T) }
func (e *Unary) Type() Type    { return Boolean }
func (e *Binary) Type() Type   { return Boolean }
func (e *Template) Type() Type { return String }
func (e *Map) Type() Type      { return Object }
func (e *List) Type() Type     { return Array }

func orAny(t Type) Type {
	if t == "" {
		return Any
	}
	return t
}

// Walk calls fn for e and every expression inside it, depth first, parents
// before children.
func Walk(e Expr, fn func(Expr)) {
	if e == nil {
		return
	}
	fn(e)
	switch x := e.(type) {
	case *Unary:
		Walk(x.X, fn)
	case *Binary:
		Walk(x.X, fn)
		Walk(x.Y, fn)
	case *Template:
		for _, p := range x.Parts {
			Walk(p.Expr, fn)
		}
	case *Map:
		for _, f := range x.Fields {
			Walk(f.Value, fn)
		}
	case *List:
		for _, it := range x.Items {
			Walk(it, fn)
		}
	}
}

// Limits on expressions, so that hostile input cannot exhaust the parser.
const (
	maxExprLen   = 8192
	maxExprDepth = 64
)

// SyntaxError is an expression that does not parse. Offset is the byte
// offset in the text where the problem is.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Msg) }

// ParseExpr parses a bare expression (no ${ }). Positions are on line 1,
// column = byte offset + 1.
func ParseExpr(s string) (Expr, error) {
	return parseExprAt(s, linePos(1, 1))
}

// ParseTemplate parses a string with ${expr} interpolations. "$${" is a
// literal "${".
func ParseTemplate(s string) (*Template, error) {
	return parseTemplateAt(s, linePos(1, 1))
}

func linePos(line, col int) func(int) Pos {
	return func(off int) Pos { return Pos{Line: line, Col: col + off} }
}

func parseExprAt(s string, pos func(int) Pos) (Expr, error) {
	if len(s) > maxExprLen {
		return nil, &SyntaxError{0, fmt.Sprintf("an expression can be at most %d bytes", maxExprLen)}
	}
	p := &parser{src: s, pos: pos}
	p.next()
	e := p.or()
	if p.err == nil && p.tok.kind != tokEOF {
		p.fail(p.tok.off, "unexpected %s after the expression", p.tok.describe())
	}
	if p.err != nil {
		return nil, p.err
	}
	return e, nil
}

func parseTemplateAt(s string, pos func(int) Pos) (*Template, error) {
	if len(s) > maxExprLen {
		return nil, &SyntaxError{0, fmt.Sprintf("a string with ${...} can be at most %d bytes", maxExprLen)}
	}
	t := &Template{Pos: pos(0)}
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			t.Parts = append(t.Parts, Part{Text: text.String()})
			text.Reset()
		}
	}
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "$${"):
			text.WriteString("${")
			i += 3
		case strings.HasPrefix(s[i:], "${"):
			p := &parser{src: s, pos: pos, i: i + 2}
			p.next()
			if p.tok.kind == tokRBrace {
				return nil, &SyntaxError{i, "empty ${}"}
			}
			e := p.or()
			if p.err == nil && p.tok.kind != tokRBrace {
				if p.tok.kind == tokEOF {
					p.fail(i, "unclosed ${: missing '}'")
				} else {
					p.fail(p.tok.off, "unexpected %s; expected '}' to close ${", p.tok.describe())
				}
			}
			if p.err != nil {
				return nil, p.err
			}
			flush()
			t.Parts = append(t.Parts, Part{Expr: e})
			i = p.tok.off + 1
		default:
			text.WriteByte(s[i])
			i++
		}
	}
	flush()
	return t, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokNumber
	tokString
	tokOp
	tokLParen
	tokRParen
	tokDot
	tokRBrace
)

type token struct {
	kind tokKind
	off  int
	text string // the source text (for strings: the decoded value)
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of expression"
	case tokString:
		return "string " + quote(t.text)
	case tokIdent:
		return fmt.Sprintf("name %q", t.text)
	case tokNumber:
		return "number " + t.text
	}
	return fmt.Sprintf("'%s'", t.text)
}

// quote writes s as an expression string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

type parser struct {
	src   string
	pos   func(int) Pos
	i     int
	tok   token
	err   *SyntaxError
	depth int
}

func (p *parser) fail(off int, format string, args ...any) {
	if p.err == nil {
		p.err = &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	p.tok = token{kind: tokEOF, off: len(p.src)}
	p.i = len(p.src)
}

func isIdentStart(c byte) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// next reads the next token into p.tok.
func (p *parser) next() {
	if p.err != nil {
		return
	}
	s := p.src
	for p.i < len(s) && (s[p.i] == ' ' || s[p.i] == '\t' || s[p.i] == '\n' || s[p.i] == '\r') {
		p.i++
	}
	start := p.i
	if start >= len(s) {
		p.tok = token{kind: tokEOF, off: start}
		return
	}
	c := s[start]
	switch {
	case isIdentStart(c):
		j := start + 1
		for j < len(s) && (isIdentStart(s[j]) || isDigit(s[j])) {
			j++
		}
		p.tok = token{kind: tokIdent, off: start, text: s[start:j]}
		p.i = j
	case isDigit(c):
		j := start
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j+1 < len(s) && s[j] == '.' && isDigit(s[j+1]) {
			j++
			for j < len(s) && isDigit(s[j]) {
				j++
			}
		}
		if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
			k := j + 1
			if k < len(s) && (s[k] == '+' || s[k] == '-') {
				k++
			}
			if k < len(s) && isDigit(s[k]) {
				for k < len(s) && isDigit(s[k]) {
					k++
				}
				j = k
			}
		}
		if j < len(s) && (isIdentStart(s[j]) || s[j] == '.') {
			p.fail(j, "malformed number %q", s[start:j+1])
			return
		}
		p.tok = token{kind: tokNumber, off: start, text: s[start:j]}
		p.i = j
	case c == '\'':
		var b strings.Builder
		j := start + 1
		for {
			if j >= len(s) {
				p.fail(start, "unterminated string: missing closing '")
				return
			}
			if s[j] == '\'' {
				j++
				break
			}
			if s[j] == '\\' {
				if j+1 < len(s) && (s[j+1] == '\'' || s[j+1] == '\\') {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				p.fail(j, `unknown escape in string: only \' and \\ are allowed`)
				return
			}
			b.WriteByte(s[j])
			j++
		}
		if !utf8.ValidString(b.String()) {
			p.fail(start, "string is not valid UTF-8")
			return
		}
		p.tok = token{kind: tokString, off: start, text: b.String()}
		p.i = j
	default:
		two := ""
		if start+1 < len(s) {
			two = s[start : start+2]
		}
		switch two {
		case "==", "!=", "<=", ">=", "&&", "||":
			p.tok = token{kind: tokOp, off: start, text: two}
			p.i = start + 2
			return
		}
		p.i = start + 1
		switch c {
		case '<', '>', '!', '-':
			p.tok = token{kind: tokOp, off: start, text: string(c)}
		case '(':
			p.tok = token{kind: tokLParen, off: start, text: "("}
		case ')':
			p.tok = token{kind: tokRParen, off: start, text: ")"}
		case '.':
			p.tok = token{kind: tokDot, off: start, text: "."}
		case '}':
			p.tok = token{kind: tokRBrace, off: start, text: "}"}
		case '=':
			p.fail(start, "unexpected '='; write == to compare")
		case '&', '|':
			p.fail(start, "unexpected '%c'; write %c%c", c, c, c)
		case '"':
			p.fail(start, "strings in expressions are single-quoted: 'text'")
		default:
			r, _ := utf8.DecodeRuneInString(s[start:])
			p.fail(start, "unexpected character %q", r)
		}
	}
}

func (p *parser) or() Expr {
	x := p.and()
	for p.err == nil && p.tok.kind == tokOp && p.tok.text == "||" {
		op := p.tok
		p.next()
		y := p.and()
		x = &Binary{OpPos: p.pos(op.off), Op: op.text, X: x, Y: y}
	}
	return x
}

func (p *parser) and() Expr {
	x := p.cmp()
	for p.err == nil && p.tok.kind == tokOp && p.tok.text == "&&" {
		op := p.tok
		p.next()
		y := p.cmp()
		x = &Binary{OpPos: p.pos(op.off), Op: op.text, X: x, Y: y}
	}
	return x
}

func isCmp(op string) bool {
	switch op {
	case "==", "!=", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func (p *parser) cmp() Expr {
	x := p.unary()
	if p.err == nil && p.tok.kind == tokOp && isCmp(p.tok.text) {
		op := p.tok
		p.next()
		y := p.unary()
		x = &Binary{OpPos: p.pos(op.off), Op: op.text, X: x, Y: y}
		if p.err == nil && p.tok.kind == tokOp && isCmp(p.tok.text) {
			p.fail(p.tok.off, "comparisons do not chain; use parentheses and && instead")
		}
	}
	return x
}

func (p *parser) unary() Expr {
	if p.err != nil {
		return nil
	}
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxExprDepth {
		p.fail(p.tok.off, "expression nested more than %d levels deep", maxExprDepth)
		return nil
	}
	if p.tok.kind == tokOp && p.tok.text == "!" {
		op := p.tok
		p.next()
		x := p.unary()
		return &Unary{Pos: p.pos(op.off), Op: "!", X: x}
	}
	if p.tok.kind == tokOp && p.tok.text == "-" {
		op := p.tok
		p.next()
		if p.tok.kind != tokNumber || p.tok.off != op.off+1 {
			p.fail(op.off, "'-' is allowed only directly before a number")
			return nil
		}
		lit := p.number()
		if lit != nil {
			lit.Pos = p.pos(op.off)
			lit.Val = -lit.Val.(float64)
		}
		return lit
	}
	return p.primary()
}

func (p *parser) number() *Lit {
	t := p.tok
	v, err := strconv.ParseFloat(t.text, 64)
	if err != nil {
		p.fail(t.off, "number %s is out of range", t.text)
		return nil
	}
	p.next()
	typ := Number
	if !strings.ContainsAny(t.text, ".eE") && v < 1<<53 {
		typ = Integer
	}
	return &Lit{Pos: p.pos(t.off), Val: v, T: typ}
}

func (p *parser) primary() Expr {
	t := p.tok
	switch t.kind {
	case tokNumber:
		return p.number()
	case tokString:
		p.next()
		return &Lit{Pos: p.pos(t.off), Val: t.text, T: String}
	case tokLParen:
		p.next()
		x := p.or()
		if p.err == nil && p.tok.kind != tokRParen {
			p.fail(p.tok.off, "unexpected %s; expected ')'", p.tok.describe())
		}
		p.next()
		return x
	case tokIdent:
		p.next()
		switch t.text {
		case "true", "false":
			return &Lit{Pos: p.pos(t.off), Val: t.text == "true", T: Boolean}
		case "null":
			return &Lit{Pos: p.pos(t.off), Val: nil, T: Null}
		}
		var path []string
		var pos []Pos
		var offs []int
		for p.err == nil && p.tok.kind == tokDot {
			p.next()
			if p.tok.kind != tokIdent {
				p.fail(p.tok.off, "unexpected %s after '.'; expected a name", p.tok.describe())
				return nil
			}
			path = append(path, p.tok.text)
			pos = append(pos, p.pos(p.tok.off))
			offs = append(offs, p.tok.off)
			p.next()
		}
		if t.text == "params" {
			if len(path) != 1 {
				p.fail(t.off, "write params.NAME to read a param")
				return nil
			}
			return &ParamRef{Pos: p.pos(t.off), Name: path[0], NamePos: pos[0]}
		}
		if len(path) == 0 {
			p.fail(t.off, "%q alone is not a value; write %s.status, %s.reason or %s.data.<field> to read a step, params.NAME to read a param, or quote text: '%s'",
				t.text, t.text, t.text, t.text, t.text)
			return nil
		}
		switch path[0] {
		case "status", "reason":
			if len(path) > 1 {
				p.fail(offs[1], "%s.%s is a string; it has no fields", t.text, path[0])
				return nil
			}
		case "data":
		default:
			p.fail(offs[0], "unknown step field %q: a step has status, reason and data%s", path[0], jobs.DidYouMean(path[0], []string{"status", "reason", "data"}))
			return nil
		}
		return &StepRef{Pos: p.pos(t.off), Step: t.text, Field: path[0], Path: path[1:], PathPos: pos[1:]}
	case tokEOF:
		p.fail(t.off, "missing value at end of expression")
	case tokOp:
		p.fail(t.off, "unexpected '%s'; expected a value", t.text)
	default:
		p.fail(t.off, "unexpected %s; expected a value", t.describe())
	}
	return nil
}
