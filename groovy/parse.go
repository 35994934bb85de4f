package groovy

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem messages.
const (
	msgDynamicJob = "build: the job name must be a string literal so jobctl can resolve it to a deployed version"
	msgNoJob      = "build: no job named; name it with a string literal, as in build job: 'name'"
)

// parser is the structural pass over the tokens.
type parser struct {
	src      []byte
	str      string  // src as a string
	toks     []token // ends with kEOF
	comments []span
	lines    lines
	// ends[i] is the index of the first token at or after i, at i's
	// bracket level, before which a statement or command-call argument
	// list ends: a closing bracket, a ';', or a token after a significant
	// newline that does not continue the line. Computed on first use.
	ends []int32
}

// newParser returns a parser over the tokens of l, which has run.
func newParser(l *lexer) *parser {
	return &parser{src: l.src, str: l.str, toks: l.toks, comments: l.comments, lines: lines{src: l.src}}
}

func (p *parser) text(t *token) string { return p.str[t.start:t.end] }

// is reports whether token i is of kind k and reads text.
func (p *parser) is(i int, k kind, text string) bool {
	t := &p.toks[i]
	return t.kind == k && p.str[t.start:t.end] == text
}

// flags returns the keyword categories of token i, 0 if it is no keyword.
func (p *parser) flags(i int) uint8 {
	t := &p.toks[i]
	if t.kind != kKeyword {
		return 0
	}
	flags, _ := keyword(p.src[t.start:t.end])
	return flags
}

func (p *parser) pos(off int) Pos { return p.lines.pos(off) }

// after returns the index after the element at i: a bracketed group or
// interpolated string as a whole, or a single token.
func (p *parser) after(i int) int {
	switch p.toks[i].kind {
	case kLParen, kLBrack, kLBrace, kStrBegin:
		return int(p.toks[i].match) + 1
	case kEOF:
		return i
	}
	return i + 1
}

// continues reports whether a line that ends with prev continues on the
// next line, which starts with t.
func continues(prev, t *token) bool {
	switch prev.kind {
	case kDot, kComma, kColon, kQuestion, kAssign, kArrow, kAt, kLT, kGT, kOp:
		return true
	}
	switch t.kind {
	case kDot, kQuestion, kColon: // foo\n  .bar(), a\n  ? b\n  : c
		return true
	}
	return false
}

// isBreak reports whether a statement ends before token i.
func (p *parser) isBreak(i int) bool {
	t := &p.toks[i]
	switch t.kind {
	case kEOF, kRParen, kRBrack, kRBrace, kStrMid, kStrEnd, kSemi:
		return true
	case kKeyword: // if (x) build 'a' else build 'b'
		if p.text(t) == "else" {
			return true
		}
	}
	return t.nl && i > 0 && !continues(&p.toks[i-1], t)
}

// end returns the index of the first break at or after i, at i's level.
func (p *parser) end(i int) int {
	if p.ends == nil {
		n := len(p.toks)
		p.ends = make([]int32, n)
		p.ends[n-1] = int32(n - 1)
		for j := n - 2; j >= 0; j-- {
			switch {
			case p.isBreak(j):
				p.ends[j] = int32(j)
			default:
				p.ends[j] = p.ends[p.after(j)]
			}
		}
	}
	return int(p.ends[i])
}

// stmtEnd returns the index of the last token of the statement that
// starts at i or continues through i: a terminating ';' included.
func (p *parser) stmtEnd(i int) int {
	e := p.end(p.after(i))
	if p.toks[e].kind == kSemi {
		return e
	}
	return e - 1
}

// findRefs finds build step calls.
func (p *parser) findRefs(f *File) {
	for i := range p.toks {
		t := &p.toks[i]
		if t.kind != kIdent || p.text(t) != "build" {
			continue
		}
		if i > 0 {
			prev := &p.toks[i-1]
			if prev.kind == kDot || prev.kind == kAt {
				continue // x.build(…), @build
			}
			if p.flags(i-1)&(kwNotCallee|kwModifier) != 0 {
				continue // def build = …, new build(), private build() {…}
			}
		}
		next := &p.toks[i+1]
		if next.nl {
			continue
		}
		switch {
		case next.kind == kLParen:
			close := next.match
			if p.definesMethod(i, int(close)) {
				continue
			}
			p.buildCall(f, i, i+2, int(close))
		case p.startsArgument(i+1) && p.commandPosition(i):
			p.buildCall(f, i, i+1, p.end(i+1))
		}
	}
	// A call's job may come after a nested call's: build(parameters: [x: build('b')], job: 'a').
	slices.SortStableFunc(f.Refs, func(a, b JobRef) int { return cmp.Compare(a.Start, b.Start) })
	slices.SortStableFunc(f.Problems, func(a, b Error) int { return cmp.Compare(a.Pos.Offset, b.Pos.Offset) })
}

// definesMethod reports whether the name at i, followed by a parameter
// list closed at close, is a method definition: a type before the name and
// a body (or throws clause) after the list.
func (p *parser) definesMethod(i, close int) bool {
	if i == 0 {
		return false
	}
	switch prev := &p.toks[i-1]; prev.kind {
	case kIdent, kGT, kRBrack: // String build(…), List<X> build(…), int[] build(…)
	case kKeyword:
		if p.flags(i-1)&kwPrimitive == 0 {
			return false
		}
	default:
		return false
	}
	next := close + 1
	return p.toks[next].kind == kLBrace || p.is(next, kKeyword, "throws")
}

// startsArgument reports whether token i can start the first argument of
// a command call (build 'x', build job: 'x').
func (p *parser) startsArgument(i int) bool {
	switch p.toks[i].kind {
	case kString, kStrBegin, kIdent, kNumber, kLBrace:
		return true
	case kKeyword:
		return p.flags(i)&kwValue != 0 || p.is(i, kKeyword, "new")
	}
	return false
}

// commandPosition reports whether the name at i starts an expression, so
// that it can be the method of a command call.
func (p *parser) commandPosition(i int) bool {
	if i == 0 || p.toks[i].nl {
		return true
	}
	prev := &p.toks[i-1]
	switch prev.kind {
	case kLBrace, kLParen, kLBrack, kComma, kSemi, kColon, kQuestion, kAssign, kArrow, kOp, kLT, kGT, kStrBegin, kStrMid:
		return true
	case kKeyword:
		switch p.text(prev) {
		case "return", "else", "assert", "throw":
			return true
		}
	case kRParen: // if (x) build 'a'
		if open := int(prev.match); open > 0 {
			return p.is(open-1, kKeyword, "if") || p.is(open-1, kKeyword, "while") || p.is(open-1, kKeyword, "for")
		}
	}
	return false
}

// buildCall looks for the job in the arguments a..b (exclusive) of the
// build call at callee.
func (p *parser) buildCall(f *File, callee, a, b int) {
	job, jobEnd := -1, -1 // the job argument's value
	pos, posEnd := -1, -1 // the first positional argument
	spread := -1          // a *:map argument
	for s := a; s < b; {
		if s > a && p.is(s, kIdent, "build") && p.toks[s+1].kind != kLParen && !p.toks[s+1].nl && p.startsArgument(s+1) {
			// build a, build b: a command call cannot be an argument, so
			// the list ends here (which also keeps the scan linear).
			break
		}
		e := s
		for e < b && p.toks[e].kind != kComma {
			e = p.after(e)
		}
		if e > b { // cannot happen with balanced brackets; be safe
			e = b
		}
		if s < e {
			switch key := p.after(s); {
			case p.is(s, kOp, "*") && s+1 < e && p.toks[s+1].kind == kColon:
				if spread < 0 {
					spread = s
				}
			case key < e && p.toks[key].kind == kColon: // a named argument
				if job < 0 && key == s+1 && p.keyName(s) == "job" {
					job, jobEnd = key+1, e
				}
			case pos < 0:
				pos, posEnd = s, e
			}
		}
		s = e + 1
	}
	if job < 0 && pos >= 0 {
		if p.toks[pos].kind == kLBrace && p.after(pos) == posEnd {
			return // build { … }: not the build step
		}
		job, jobEnd = pos, posEnd
	}
	switch {
	case job >= 0 && job == jobEnd:
		f.Problems = append(f.Problems, Error{Pos: p.pos(int(p.toks[job-1].start)), Msg: msgDynamicJob})
	case job >= 0 && jobEnd == job+1 && p.toks[job].kind == kString:
		t := &p.toks[job]
		f.Refs = append(f.Refs, JobRef{Name: p.value(t), Pos: p.pos(int(t.start)), Start: int(t.start), End: int(t.end)})
	case job >= 0:
		f.Problems = append(f.Problems, Error{Pos: p.pos(int(p.toks[job].start)), Msg: msgDynamicJob})
	case spread >= 0:
		f.Problems = append(f.Problems, Error{Pos: p.pos(int(p.toks[spread].start)), Msg: msgDynamicJob})
	default:
		f.Problems = append(f.Problems, Error{Pos: p.pos(int(p.toks[callee].start)), Msg: msgNoJob})
	}
}

// keyName returns the name of the map key at i.
func (p *parser) keyName(i int) string {
	t := &p.toks[i]
	switch t.kind {
	case kIdent, kKeyword:
		return p.text(t)
	case kString:
		return p.value(t)
	}
	return ""
}

// findDecls finds the top-level declarations.
func (p *parser) findDecls(f *File) {
	n := len(p.toks) - 1 // without kEOF
	for i := 0; i < n; {
		if p.toks[i].kind == kSemi {
			i++
			continue
		}
		if d, last, ok := p.decl(i); ok {
			t0, t1 := &p.toks[i], &p.toks[last]
			d.Start, d.End = int(t0.start), int(t1.end)
			d.StartLine, d.EndLine = p.pos(d.Start).Line, p.pos(d.End-1).Line
			d.OwnLines = p.ownLines(i, last, d.StartLine, d.EndLine)
			f.Decls = append(f.Decls, d)
			i = last + 1
			continue
		}
		i = p.stmtEnd(i) + 1
	}
}

// decl recognises a declaration that starts at token i, and returns it
// with the index of its last token.
func (p *parser) decl(i int) (d Decl, last int, ok bool) {
	j := i
	field, prefix := false, false
	for {
		if p.toks[j].kind == kAt && !p.is(j+1, kKeyword, "interface") { // an annotation
			j++
			start := j
			if p.toks[j].kind != kIdent {
				return d, 0, false
			}
			for p.is(j+1, kDot, ".") && p.toks[j+2].kind == kIdent {
				j += 2
			}
			if name := p.str[p.toks[start].start:p.toks[j].end]; name == "Field" || name == "groovy.transform.Field" {
				field = true
			}
			j++
			if p.toks[j].kind == kLParen && !p.toks[j].nl {
				j = p.after(j)
			}
			prefix = true
			continue
		}
		if p.flags(j)&kwModifier != 0 || p.is(j, kKeyword, "def") {
			prefix = true
			j++
			continue
		}
		break
	}
	switch t := &p.toks[j]; {
	case t.kind == kAt: // @interface
		return p.classDecl(j + 2)
	case t.kind != kKeyword:
	case p.text(t) == "import":
		return p.importDecl(j)
	case p.text(t) == "class" || p.text(t) == "interface" || p.text(t) == "enum" || p.text(t) == "trait":
		return p.classDecl(j + 1)
	}
	if prefix && p.toks[j].kind == kLT { // def <T> T name(…)
		k, ok := p.typeArgs(j)
		if !ok {
			return d, 0, false
		}
		j = k
	}
	name := -1
	if k, ok := p.typeEnd(j); ok && (p.toks[k].kind == kIdent || p.toks[k].kind == kString) && !p.toks[k].nl {
		name = k
	} else if prefix && (p.toks[j].kind == kIdent || p.toks[j].kind == kString) {
		name = j
	}
	if name < 0 || p.keyName(name) == "" {
		return d, 0, false
	}
	if next := name + 1; p.toks[next].kind == kLParen && !p.toks[next].nl {
		k := p.after(next)
		if p.is(k, kKeyword, "throws") {
			for k++; k < len(p.toks)-1 && p.toks[k].kind != kLBrace && !p.isBreak(k); k++ {
			}
		}
		if p.toks[k].kind != kLBrace {
			return d, 0, false
		}
		return Decl{Kind: Method, Name: p.keyName(name)}, int(p.toks[k].match), true
	}
	if !field || p.toks[name].kind != kIdent { // only methods may be named by a string
		return d, 0, false
	}
	return Decl{Kind: Field, Name: p.text(&p.toks[name])}, p.stmtEnd(name), true
}

// importDecl recognises an import from its keyword at j: a qualified
// name, possibly static, ending in .* or with an alias.
func (p *parser) importDecl(j int) (d Decl, last int, ok bool) {
	k := j + 1
	if p.is(k, kKeyword, "static") {
		k++
	}
	var b strings.Builder
	first := k
	for ; ; k++ {
		t := &p.toks[k]
		name := t.kind == kIdent || t.kind == kKeyword && k > first && p.is(k-1, kDot, ".")
		if k > first && t.nl || !name && !p.is(k, kDot, ".") && !p.is(k, kOp, "*") {
			break
		}
		b.WriteString(p.text(t))
	}
	path := b.String()
	if k > first && int(p.toks[k-1].end-p.toks[first].start) == len(path) {
		path = p.str[p.toks[first].start:p.toks[k-1].end] // no allocation when written without spaces
	}
	if p.is(k, kKeyword, "as") && !p.toks[k].nl && p.toks[k+1].kind == kIdent && !p.toks[k+1].nl {
		k += 2
	}
	if p.toks[k].kind != kSemi {
		k--
	}
	if k <= j {
		return d, 0, false
	}
	return Decl{Kind: Import, Name: path}, k, true
}

// classDecl recognises a class, interface, enum or trait from its name at
// j through its body.
func (p *parser) classDecl(j int) (d Decl, last int, ok bool) {
	if p.toks[j].kind != kIdent {
		return d, 0, false
	}
	for k := j + 1; ; k = p.after(k) {
		t := &p.toks[k]
		if t.kind == kLBrace {
			return Decl{Kind: Class, Name: p.text(&p.toks[j])}, int(t.match), true
		}
		if p.isBreak(k) && !p.is(k, kKeyword, "extends") && !p.is(k, kKeyword, "implements") {
			return d, 0, false
		}
	}
}

// typeEnd parses a type at i, as Groovy does at the start of a
// declaration: a built-in type, a capitalised name or a qualified name
// whose last part is capitalised, with type arguments and array brackets.
// It returns the index after the type.
func (p *parser) typeEnd(i int) (int, bool) {
	t := &p.toks[i]
	switch t.kind {
	case kKeyword:
		if p.flags(i)&kwPrimitive == 0 {
			return 0, false
		}
		i++
	case kIdent:
		for p.is(i+1, kDot, ".") && p.toks[i+2].kind == kIdent {
			i += 2
		}
		last := &p.toks[i]
		if r, _ := utf8.DecodeRune(p.src[last.start:last.end]); !unicode.IsUpper(r) {
			return 0, false
		}
		i++
		if p.toks[i].kind == kLT {
			k, ok := p.typeArgs(i)
			if !ok {
				return 0, false
			}
			i = k
		}
	default:
		return 0, false
	}
	for p.toks[i].kind == kLBrack && p.toks[i+1].kind == kRBrack {
		i += 2
	}
	return i, true
}

// typeArgs skips type arguments or parameters <…> at i and returns the
// index after them.
func (p *parser) typeArgs(i int) (int, bool) {
	depth := 0
	for ; ; i++ {
		t := &p.toks[i]
		switch t.kind {
		case kLT:
			depth++
		case kGT:
			depth -= int(t.end - t.start) // > >> >>>
			if depth <= 0 {
				return i + 1, depth == 0
			}
		case kIdent, kComma, kQuestion:
		case kDot:
			if t.end-t.start != 1 {
				return 0, false
			}
		case kKeyword:
			if p.flags(i)&kwPrimitive == 0 && !p.is(i, kKeyword, "extends") && !p.is(i, kKeyword, "super") {
				return 0, false
			}
		case kLBrack:
			if p.toks[i+1].kind != kRBrack {
				return 0, false
			}
			i++
		case kOp:
			if !p.is(i, kOp, "&") {
				return 0, false
			}
		default:
			return 0, false
		}
		if t.nl && !continues(&p.toks[i-1], t) {
			return 0, false
		}
	}
}

// ownLines reports whether the declaration with tokens first..last, on
// lines startLine..endLine, shares these lines only with whitespace and
// with comments that lie within them.
func (p *parser) ownLines(first, last, startLine, endLine int) bool {
	ls := p.lines.starts[startLine-1]
	le := p.lines.lineEnd(endLine)
	if first > 0 && int(p.toks[first-1].end) > ls {
		return false
	}
	if p.toks[last+1].kind != kEOF && int(p.toks[last+1].start) < le {
		return false
	}
	return !p.inComment(ls) && !p.inComment(le)
}

// inComment reports whether a comment starts before off and ends after it.
func (p *parser) inComment(off int) bool {
	i := sort.Search(len(p.comments), func(i int) bool { return p.comments[i].start >= off })
	return i > 0 && p.comments[i-1].end > off
}
