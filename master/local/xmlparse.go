package local

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A strict, fast XML parser for configs. encoding/xml decodes text a byte
// at a time (0.7 ms for one of jobctl's 37 KB worker configs, most of a
// createItem request); this scans text with IndexByte. It checks what
// well-formedness requires of Jenkins configs: one root element, matching
// tags, well-formed names and attributes, known entities and character
// references, XML characters only, no DOCTYPE. Line ends in text are
// normalised to \n as the XML spec (and encoding/xml) do.

// parseBody parses a document's content after its XML declaration.
func parseBody(body []byte) (*xnode, error) {
	if err := checkChars(body); err != nil {
		return nil, err
	}
	p := &xparser{s: body}
	return p.document()
}

// checkChars refuses bytes that are not XML 1.0 characters.
func checkChars(b []byte) error {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return fmt.Errorf("%w: line %d: illegal character code U+%04X", errXML, 1+bytes.Count(b[:i], []byte("\n")), c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return fmt.Errorf("%w: line %d: invalid UTF-8", errXML, 1+bytes.Count(b[:i], []byte("\n")))
		}
		if r == 0xFFFE || r == 0xFFFF {
			return fmt.Errorf("%w: line %d: illegal character code U+%04X", errXML, 1+bytes.Count(b[:i], []byte("\n")), r)
		}
		i += size
	}
	return nil
}

type xparser struct {
	s     []byte
	i     int
	stack []*xnode
	root  *xnode
}

func (p *xparser) errorf(format string, args ...any) error {
	line := 1 + bytes.Count(p.s[:min(p.i, len(p.s))], []byte("\n"))
	return fmt.Errorf("%w: line %d: %s", errXML, line, fmt.Sprintf(format, args...))
}

func (p *xparser) document() (*xnode, error) {
	for p.i < len(p.s) {
		lt := bytes.IndexByte(p.s[p.i:], '<')
		end := len(p.s)
		if lt >= 0 {
			end = p.i + lt
		}
		if end > p.i {
			if err := p.text(p.s[p.i:end]); err != nil {
				return nil, err
			}
			p.i = end
		}
		if lt < 0 {
			break
		}
		if err := p.markup(); err != nil {
			return nil, err
		}
	}
	if len(p.stack) > 0 {
		return nil, p.errorf("unexpected end of document: <%s> is not closed", p.stack[len(p.stack)-1].name)
	}
	if p.root == nil {
		return nil, fmt.Errorf("%w: no root element", errXML)
	}
	return p.root, nil
}

func (p *xparser) text(raw []byte) error {
	if len(p.stack) == 0 {
		if len(bytes.Trim(raw, " \t\r\n")) > 0 {
			return p.errorf("text outside the root element")
		}
		return nil
	}
	s, err := p.decode(raw, false)
	if err != nil {
		return err
	}
	p.addText(s)
	return nil
}

func (p *xparser) addText(s string) {
	if s == "" {
		return
	}
	parent := p.stack[len(p.stack)-1]
	if k := len(parent.kids); k > 0 && parent.kids[k-1].kind == xText {
		parent.kids[k-1].text += s
		return
	}
	parent.kids = append(parent.kids, &xnode{kind: xText, text: s})
}

// decode normalises line ends and replaces references in text or an
// attribute value.
func (p *xparser) decode(raw []byte, attr bool) (string, error) {
	if bytes.IndexByte(raw, '\r') >= 0 {
		raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
		raw = bytes.ReplaceAll(raw, []byte("\r"), []byte("\n"))
	}
	amp := bytes.IndexByte(raw, '&')
	if amp < 0 {
		if !attr && bytes.Contains(raw, []byte("]]>")) {
			return "", p.errorf(`"]]>" in text`)
		}
		return string(raw), nil
	}
	var b strings.Builder
	b.Grow(len(raw))
	for amp >= 0 {
		b.Write(raw[:amp])
		raw = raw[amp:]
		semi := bytes.IndexByte(raw, ';')
		if semi < 0 || semi > 40 {
			return "", p.errorf("invalid character entity %q", truncate(string(raw), 12))
		}
		ref := string(raw[1:semi])
		switch ref {
		case "lt":
			b.WriteByte('<')
		case "gt":
			b.WriteByte('>')
		case "amp":
			b.WriteByte('&')
		case "apos":
			b.WriteByte('\'')
		case "quot":
			b.WriteByte('"')
		default:
			r, ok := charRef(ref)
			if !ok {
				return "", p.errorf("invalid character entity &%s;", ref)
			}
			b.WriteRune(r)
		}
		raw = raw[semi+1:]
		amp = bytes.IndexByte(raw, '&')
	}
	b.Write(raw)
	return b.String(), nil
}

// charRef decodes #N or #xN to an XML character.
func charRef(ref string) (rune, bool) {
	if !strings.HasPrefix(ref, "#") || len(ref) < 2 {
		return 0, false
	}
	var n uint64
	var err error
	if ref[1] == 'x' {
		if len(ref) < 3 {
			return 0, false
		}
		n, err = strconv.ParseUint(ref[2:], 16, 32)
	} else {
		n, err = strconv.ParseUint(ref[1:], 10, 32)
	}
	if err != nil {
		return 0, false
	}
	r := rune(n)
	ok := r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
	return r, ok
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// markup parses what starts at a '<'.
func (p *xparser) markup() error {
	rest := p.s[p.i:]
	switch {
	case bytes.HasPrefix(rest, []byte("<!--")):
		end := bytes.Index(rest[4:], []byte("--"))
		if end < 0 {
			return p.errorf("unterminated comment")
		}
		if !bytes.HasPrefix(rest[4+end:], []byte("-->")) {
			return p.errorf(`invalid sequence "--" not allowed in comments`)
		}
		if len(p.stack) > 0 {
			parent := p.stack[len(p.stack)-1]
			parent.kids = append(parent.kids, &xnode{kind: xComment, text: string(rest[4 : 4+end])})
		}
		p.i += 4 + end + 3
	case bytes.HasPrefix(rest, []byte("<![CDATA[")):
		if len(p.stack) == 0 {
			return p.errorf("CDATA outside the root element")
		}
		end := bytes.Index(rest[9:], []byte("]]>"))
		if end < 0 {
			return p.errorf("unterminated CDATA section")
		}
		raw := rest[9 : 9+end]
		if bytes.IndexByte(raw, '\r') >= 0 {
			raw = bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
		}
		p.addText(string(raw))
		p.i += 9 + end + 3
	case bytes.HasPrefix(rest, []byte("<!")):
		return p.errorf("DOCTYPE is disallowed")
	case bytes.HasPrefix(rest, []byte("<?")):
		end := bytes.Index(rest, []byte("?>"))
		if end < 0 {
			return p.errorf("unterminated processing instruction")
		}
		target, n := scanName(rest[2:])
		if n == 0 {
			return p.errorf("processing instruction without a target")
		}
		if strings.EqualFold(target, "xml") {
			return p.errorf("misplaced XML declaration")
		}
		p.i += end + 2
	case bytes.HasPrefix(rest, []byte("</")):
		name, n := scanName(rest[2:])
		if n == 0 {
			return p.errorf("invalid end tag")
		}
		j := 2 + n
		for j < len(rest) && isXMLSpace(rest[j]) {
			j++
		}
		if j >= len(rest) || rest[j] != '>' {
			return p.errorf("invalid end tag </%s", name)
		}
		if len(p.stack) == 0 || p.stack[len(p.stack)-1].name != name {
			return p.errorf("unexpected </%s>", name)
		}
		p.stack = p.stack[:len(p.stack)-1]
		p.i += j + 1
	default:
		return p.startTag()
	}
	return nil
}

func (p *xparser) startTag() error {
	rest := p.s[p.i:]
	name, n := scanName(rest[1:])
	if n == 0 {
		return p.errorf("invalid start tag")
	}
	el := &xnode{kind: xElem, name: name}
	j := 1 + n
	for {
		ws := j
		for j < len(rest) && isXMLSpace(rest[j]) {
			j++
		}
		if j >= len(rest) {
			return p.errorf("unterminated start tag <%s", name)
		}
		if rest[j] == '>' || (rest[j] == '/' && j+1 < len(rest) && rest[j+1] == '>') {
			break
		}
		if j == ws {
			return p.errorf("expected whitespace before an attribute in <%s>", name)
		}
		aname, an := scanName(rest[j:])
		if an == 0 {
			return p.errorf("invalid attribute in <%s>", name)
		}
		j += an
		for j < len(rest) && isXMLSpace(rest[j]) {
			j++
		}
		if j >= len(rest) || rest[j] != '=' {
			return p.errorf("attribute %s of <%s> has no value", aname, name)
		}
		j++
		for j < len(rest) && isXMLSpace(rest[j]) {
			j++
		}
		if j >= len(rest) || (rest[j] != '"' && rest[j] != '\'') {
			return p.errorf("unquoted value of attribute %s in <%s>", aname, name)
		}
		q := rest[j]
		end := bytes.IndexByte(rest[j+1:], q)
		if end < 0 {
			return p.errorf("unterminated value of attribute %s in <%s>", aname, name)
		}
		raw := rest[j+1 : j+1+end]
		if bytes.IndexByte(raw, '<') >= 0 {
			return p.errorf("unescaped < in attribute %s of <%s>", aname, name)
		}
		val, err := p.decode(raw, true)
		if err != nil {
			return err
		}
		for _, a := range el.attrs {
			if qname(a.Name) == aname {
				return p.errorf("attribute %s repeated in <%s>", aname, name)
			}
		}
		el.attrs = append(el.attrs, xml.Attr{Name: splitQName(aname), Value: val})
		j += 1 + end + 1
	}
	if len(p.stack) == 0 {
		if p.root != nil {
			return p.errorf("more than one root element")
		}
		p.root = el
	} else {
		parent := p.stack[len(p.stack)-1]
		parent.kids = append(parent.kids, el)
	}
	if rest[j] == '/' {
		p.i += j + 2
		return nil
	}
	p.stack = append(p.stack, el)
	p.i += j + 1
	return nil
}

func splitQName(s string) xml.Name {
	if i := strings.IndexByte(s, ':'); i > 0 && i < len(s)-1 {
		return xml.Name{Space: s[:i], Local: s[i+1:]}
	}
	return xml.Name{Local: s}
}

// scanName reads an XML name at the start of b; n is 0 if there is none.
// Non-ASCII letters are accepted without checking their Unicode class.
func scanName(b []byte) (string, int) {
	n := 0
	for n < len(b) {
		c := b[n]
		ok := c >= utf8.RuneSelf || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == ':'
		if n > 0 {
			ok = ok || '0' <= c && c <= '9' || c == '.' || c == '-'
		}
		if !ok {
			break
		}
		n++
	}
	return string(b[:n]), n
}
