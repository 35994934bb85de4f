package cron

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Parse parses a Jenkins cron spec: one or more lines; blank lines and lines
// starting with # are ignored; an optional first line TZ=Area/City.
//
// Every line is checked. A single problem is returned as a *SyntaxError;
// problems on several lines are returned together (errors.Join), and
// errors.As finds the first. A spec with no entries is valid and never
// fires, as in Jenkins.
func Parse(spec string) (*Spec, error) {
	s := &Spec{}
	var errs []error
	for i, raw := range strings.Split(spec, "\n") {
		lineNo := i + 1
		// Jenkins trims each line with String.trim: every character up to
		// U+0020, which also drops the \r of a \r\n line ending.
		content := strings.TrimLeftFunc(raw, isTrimmed)
		col := utf8.RuneCountInString(raw[:len(raw)-len(content)]) + 1
		content = strings.TrimRightFunc(content, isTrimmed)

		if lineNo == 1 && strings.HasPrefix(content, "TZ=") {
			loc, err := loadLocation(strings.ReplaceAll(content, "TZ=", ""))
			if err != nil {
				errs = append(errs, &SyntaxError{Line: lineNo, Col: col + len("TZ="), Msg: err.Error()})
			}
			s.loc = loc
			continue
		}
		if content == "" || content[0] == '#' {
			continue
		}
		p := &lineParser{line: lineNo, toks: lex(content, col)}
		e, err := p.parse()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.entries = append(s.entries, e)
	}
	switch len(errs) {
	case 0:
		return s, nil
	case 1:
		return nil, errs[0]
	default:
		return nil, errors.Join(errs...)
	}
}

func isTrimmed(r rune) bool { return r <= ' ' }

// loadLocation validates the name of a TZ= line. Jenkins accepts the IDs of
// java.util.TimeZone; here the system's time zone database decides, minus
// names that only Go understands.
func loadLocation(name string) (*time.Location, error) {
	switch {
	case name == "":
		return nil, errors.New(`missing time zone name after "TZ="`)
	case name == "Local" || name == "localtime" || name == "posixrules" || name == "Factory" ||
		strings.HasPrefix(name, "posix/") || strings.HasPrefix(name, "right/") ||
		strings.ContainsAny(name, ". \t"):
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err == nil {
		return loc, nil
	}
	if !haveTZData() {
		return nil, fmt.Errorf("cannot load time zone %q: no time zone database on this system (install tzdata or set ZONEINFO)", name)
	}
	return nil, fmt.Errorf("unknown time zone %q", name)
}

// haveTZData reports whether time.LoadLocation can find a time zone
// database at all.
var haveTZData = sync.OnceValue(func() bool {
	_, err := time.LoadLocation("America/New_York")
	return err == nil
})

// Lexing. The tokens mirror Jenkins' CrontabLexer, except that a run of
// letters is one word token so that messages can quote it whole.

type tokKind int

const (
	tokEOF tokKind = iota
	tokNum
	tokSpace // spaces and tabs
	tokMinus
	tokStar
	tokSlash
	tokComma
	tokAt
	tokH
	tokLParen
	tokRParen
	tokWord  // letters other than a lone H
	tokOther // any other character; always an error
)

type token struct {
	kind tokKind
	text string
	col  int   // 1-based column in the original line
	num  int64 // value of a tokNum, capped at maxNumber+1
}

// maxNumber is the largest number Jenkins can read (Integer.parseInt).
const maxNumber = math.MaxInt32

var punct = map[byte]tokKind{
	'-': tokMinus, '*': tokStar, '/': tokSlash, ',': tokComma,
	'@': tokAt, '(': tokLParen, ')': tokRParen,
}

// lex splits a trimmed, non-empty line whose first character is at column
// col. The result always ends with a tokEOF whose column is just past the
// last character.
func lex(s string, col int) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		j := i + 1
		kind := tokOther
		switch {
		case isDigit(c):
			kind = tokNum
			for j < len(s) && isDigit(s[j]) {
				j++
			}
		case c == ' ' || c == '\t':
			kind = tokSpace
			for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
				j++
			}
		case isLetter(c):
			kind = tokWord
			for j < len(s) && isLetter(s[j]) {
				j++
			}
			if j == i+1 && c == 'H' {
				kind = tokH
			}
		case punct[c] != 0:
			kind = punct[c]
		default:
			_, n := utf8.DecodeRuneInString(s[i:])
			j = i + n
		}
		t := token{kind: kind, text: s[i:j], col: col}
		if kind == tokNum {
			for k := i; k < j && t.num <= maxNumber; k++ {
				t.num = t.num*10 + int64(s[k]-'0')
			}
		}
		toks = append(toks, t)
		col += utf8.RuneCountInString(t.text)
		i = j
	}
	return append(toks, token{kind: tokEOF, col: col})
}

func isDigit(c byte) bool  { return '0' <= c && c <= '9' }
func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// Parsing: a recursive-descent version of Jenkins' CrontabParser grammar.

type lineParser struct {
	line int
	toks []token
	pos  int
}

func (p *lineParser) peek() token { return p.toks[p.pos] }

func (p *lineParser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEOF {
		p.pos++
	}
	return t
}

func (p *lineParser) errorf(col int, format string, args ...any) error {
	return &SyntaxError{Line: p.line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// unexpected reports token t where something else was needed.
func (p *lineParser) unexpected(t token, format string, args ...any) error {
	return p.errorf(t.col, "%s, found %s", fmt.Sprintf(format, args...), describe(t))
}

const fieldList = "minute hour day-of-month month day-of-week"

func (p *lineParser) parse() (entry, error) {
	if p.peek().kind == tokAt {
		return p.parseAlias()
	}
	var e entry
	for f := range numFields {
		if f > 0 {
			if t := p.next(); t.kind == tokEOF {
				return e, p.errorf(t.col, "expected 5 fields (%s), found %d", fieldList, f)
			}
			// Otherwise t is a tokSpace: parseField stops only there.
		}
		terms, err := p.parseField(f)
		if err != nil {
			return e, err
		}
		e.fields[f] = terms
	}
	if p.peek().kind == tokEOF {
		return e, nil
	}
	p.next() // the space before an extra field
	extra := p.peek()
	if extra.text == "#" {
		return e, p.errorf(extra.col, `unexpected "#" (comments must be on a line of their own)`)
	}
	n := numFields + 1
	for _, t := range p.toks[p.pos:] {
		if t.kind == tokSpace {
			n++
		}
	}
	return e, p.errorf(extra.col, "expected 5 fields (%s), found %d", fieldList, n)
}

// aliases maps the @ forms to the hashed entries Jenkins substitutes.
var aliases = map[string]string{
	"yearly":   "H H H H *",
	"annually": "H H H H *",
	"monthly":  "H H H * *",
	"weekly":   "H H * * H",
	"daily":    "H H * * *",
	"midnight": "H H(0-2) * * *",
	"hourly":   "H * * * *",
}

const aliasList = "@yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly"

func (p *lineParser) parseAlias() (entry, error) {
	at := p.next()
	name := p.next()
	if name.kind != tokWord && name.kind != tokH {
		return entry{}, p.unexpected(name, `expected %s after "@"`, aliasList)
	}
	expansion, ok := aliases[name.text]
	if !ok {
		return entry{}, p.errorf(at.col, "unknown alias %q (use %s)", "@"+name.text, aliasList)
	}
	if t := p.peek(); t.kind != tokEOF {
		return entry{}, p.unexpected(t, "expected end of line after %q", "@"+name.text)
	}
	return (&lineParser{line: p.line, toks: lex(expansion, 1)}).parse()
}

// parseField parses a comma-separated list of terms and checks that it is
// followed by a space or the end of the line.
func (p *lineParser) parseField(f int) ([]term, error) {
	var terms []term
	for {
		t, err := p.parseTerm(f)
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
		if p.peek().kind != tokComma {
			break
		}
		p.next()
	}
	switch t := p.peek(); t.kind {
	case tokSpace, tokEOF:
		return terms, nil
	default:
		return nil, p.unexpected(t, `expected ",", a space or end of line in the %s field`, fieldNames[f])
	}
}

func (p *lineParser) parseTerm(f int) (term, error) {
	t := p.next()
	switch t.kind {
	case tokNum:
		switch p.peek().kind {
		case tokMinus:
			p.next()
			return p.parseRange(f, t)
		case tokSlash:
			return term{}, p.errorf(p.peek().col, `unexpected "/" after %s (a step needs a range, e.g. "*/15" or "0-30/15")`, t.text)
		}
		v := int(min(t.num, maxNumber))
		return term{lo: v, hi: v, step: 1}, p.checkValue(f, t)
	case tokStar:
		step, err := p.optionalStep()
		if err != nil {
			return term{}, err
		}
		if step.kind == tokEOF {
			return term{lo: lowerBound[f], hi: upperBound[f], step: 1}, nil
		}
		if err := p.checkStep(f, step); err != nil {
			return term{}, err
		}
		return term{lo: lowerBound[f], hi: upperBound[f], step: step.num}, nil
	case tokH:
		return p.parseHash(f)
	default:
		return term{}, p.unexpected(t, `expected a number, "*" or "H" in the %s field`, fieldNames[f])
	}
}

// parseRange parses the rest of a-b or a-b/n after the "-".
func (p *lineParser) parseRange(f int, lo token) (term, error) {
	hi, err := p.expectNumber(`"-"`)
	if err != nil {
		return term{}, err
	}
	step, err := p.optionalStep()
	if err != nil {
		return term{}, err
	}
	return p.checkRange(f, lo, hi, step)
}

// parseHash parses the rest of H, H/n, H(a-b) or H(a-b)/n after the H.
func (p *lineParser) parseHash(f int) (term, error) {
	lo, hi := lowerBound[f], hashUpper[f]
	var loTok token
	if p.peek().kind == tokLParen {
		p.next()
		var err error
		if loTok, err = p.expectNumber(`"H("`); err != nil {
			return term{}, err
		}
		if t := p.next(); t.kind != tokMinus {
			return term{}, p.unexpected(t, `expected "-" in "H(%s-…)"`, loTok.text)
		}
		hiTok, err := p.expectNumber(`"-"`)
		if err != nil {
			return term{}, err
		}
		if t := p.next(); t.kind != tokRParen {
			return term{}, p.unexpected(t, `expected ")" after "H(%s-%s"`, loTok.text, hiTok.text)
		}
		if err := p.checkValue(f, loTok); err != nil {
			return term{}, err
		}
		if err := p.checkValue(f, hiTok); err != nil {
			return term{}, err
		}
		lo, hi = int(loTok.num), int(hiTok.num)
	}
	step, err := p.optionalStep()
	if err != nil {
		return term{}, err
	}
	n := int64(1)
	if step.kind != tokEOF {
		n = step.num
	}
	switch {
	case hi < lo:
		return term{}, p.errorf(loTok.col, "%s range H(%d-%d) is reversed (did you mean H(%d-%d)?)", fieldNames[f], lo, hi, hi, lo)
	case n > int64(hi-lo+1):
		return term{}, p.errorf(step.col, "%s step %s is out of range 1-%d for H", fieldNames[f], step.text, hi-lo+1)
	case n < 1:
		return term{}, p.errorf(step.col, "%s step must be at least 1, found %s", fieldNames[f], step.text)
	}
	return term{hash: true, lo: lo, hi: hi, step: n}, nil
}

// optionalStep parses "/n" if present; without one it returns a tokEOF.
func (p *lineParser) optionalStep() (token, error) {
	if p.peek().kind != tokSlash {
		return token{kind: tokEOF}, nil
	}
	p.next()
	return p.expectNumber(`"/"`)
}

func (p *lineParser) expectNumber(after string) (token, error) {
	t := p.next()
	if t.kind != tokNum {
		return t, p.unexpected(t, "expected a number after %s", after)
	}
	return t, nil
}

func (p *lineParser) checkValue(f int, t token) error {
	if t.num < int64(lowerBound[f]) || t.num > int64(upperBound[f]) {
		return p.errorf(t.col, "%s %s is out of range %d-%d", fieldNames[f], t.text, lowerBound[f], upperBound[f])
	}
	return nil
}

func (p *lineParser) checkStep(f int, t token) error {
	switch {
	case t.num < 1:
		return p.errorf(t.col, "%s step must be at least 1, found %s", fieldNames[f], t.text)
	case t.num > maxNumber:
		return p.errorf(t.col, "%s step %s is too large", fieldNames[f], t.text)
	}
	return nil
}

// checkRange validates a-b or a-b/n in Jenkins' order: both ends, the
// step, then the direction.
func (p *lineParser) checkRange(f int, lo, hi, step token) (term, error) {
	if err := p.checkValue(f, lo); err != nil {
		return term{}, err
	}
	if err := p.checkValue(f, hi); err != nil {
		return term{}, err
	}
	n := int64(1)
	if step.kind != tokEOF {
		if err := p.checkStep(f, step); err != nil {
			return term{}, err
		}
		n = step.num
	}
	if lo.num > hi.num {
		return term{}, p.errorf(lo.col, "%s range %s-%s is reversed (did you mean %s-%s?)", fieldNames[f], lo.text, hi.text, hi.text, lo.text)
	}
	return term{lo: int(lo.num), hi: int(hi.num), step: n}, nil
}

// describe names a token for an error message, with a hint for common
// mistakes.
func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of line"
	case tokSpace:
		return "a space"
	case tokWord:
		switch {
		case t.text == "h":
			return `"h" (did you mean "H"?)`
		case isName(t.text):
			return fmt.Sprintf("%q (day and month names are not supported, use numbers)", t.text)
		}
	case tokOther:
		switch t.text {
		case "#":
			return `"#" (comments must be on a line of their own)`
		case "?":
			return `"?" (use "*" instead)`
		}
	}
	return fmt.Sprintf("%q", t.text)
}

func isName(w string) bool {
	if len(w) != 3 {
		return false
	}
	const names = "sunmontuewedthufrisatjanfebmaraprmayjunjulaugsepoctnovdec"
	w = strings.ToLower(w)
	for i := 0; i < len(names); i += 3 {
		if names[i:i+3] == w {
			return true
		}
	}
	return false
}
