package local

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strings"
)

// A small XML DOM: enough to read a job's config, change an element
// (<disabled>, a view's <jobNames>) and write it back. Jenkins configs are
// XStream documents: elements, attributes and text, no namespaces that
// matter and no DTDs.

type xkind uint8

const (
	xElem xkind = iota
	xText
	xComment
)

type xnode struct {
	kind  xkind
	name  string // element name, prefix included
	attrs []xml.Attr
	kids  []*xnode
	text  string // text or comment
}

// xmlDecl is the XML declaration Jenkins writes in front of the configs it
// serves (XStream writes XML 1.1).
const xmlDecl = "<?xml version='1.1' encoding='UTF-8'?>\n"

// errXML wraps every reason a document is refused.
var errXML = errors.New("malformed XML")

// parseXML parses a whole document: an optional declaration (version 1.0
// or 1.1; UTF-8, US-ASCII or ISO-8859-1), one root element, nothing after
// it but whitespace, comments and processing instructions. DOCTYPEs are
// refused, as Jenkins does. It returns the root and the document as UTF-8
// (data itself unless it had to be converted).
func parseXML(data []byte) (*xnode, []byte, error) {
	doc, body, err := splitDecl(data)
	if err != nil {
		return nil, nil, err
	}
	root, err := parseBody(body)
	if err != nil {
		return nil, nil, err
	}
	return root, doc, nil
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// splitDecl separates the XML declaration, which encoding/xml would refuse
// for version 1.1, from the rest of the document, converting ISO-8859-1 to
// UTF-8. doc is the whole document in UTF-8; body is what follows the
// declaration.
func splitDecl(data []byte) (doc, body []byte, err error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	rest := bytes.TrimLeft(data, " \t\r\n")
	if !bytes.HasPrefix(rest, []byte("<?xml")) || len(rest) < 6 || !isXMLSpace(rest[5]) {
		return data, data, nil
	}
	end := bytes.Index(rest, []byte("?>"))
	if end < 0 {
		return nil, nil, fmt.Errorf("%w: unterminated XML declaration", errXML)
	}
	decl := string(rest[5:end])
	body = rest[end+2:]
	if v := declAttr(decl, "version"); v != "1.0" && v != "1.1" {
		return nil, nil, fmt.Errorf("%w: XML version %q is not supported", errXML, v)
	}
	switch enc := strings.ToLower(declAttr(decl, "encoding")); enc {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return data, body, nil
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1":
		var b strings.Builder
		for _, c := range body {
			b.WriteRune(rune(c))
		}
		body = []byte(b.String())
		doc = append([]byte(xmlDecl), body...)
		return doc, body, nil
	default:
		return nil, nil, fmt.Errorf("%w: encoding %q is not supported (use UTF-8)", errXML, enc)
	}
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// declAttr reads a pseudo-attribute of an XML declaration.
func declAttr(decl, name string) string {
	i := strings.Index(decl, name)
	for i >= 0 {
		rest := strings.TrimLeft(decl[i+len(name):], " \t\r\n")
		if strings.HasPrefix(rest, "=") {
			rest = strings.TrimLeft(rest[1:], " \t\r\n")
			if len(rest) > 0 && (rest[0] == '"' || rest[0] == '\'') {
				if j := strings.IndexByte(rest[1:], rest[0]); j >= 0 {
					return rest[1 : 1+j]
				}
			}
			return ""
		}
		j := strings.Index(decl[i+1:], name)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return ""
}

// child returns the first child element named name, or nil.
func (n *xnode) child(name string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.kind == xElem && k.name == name {
			return k
		}
	}
	return nil
}

// path follows child elements by name.
func (n *xnode) path(names ...string) *xnode {
	for _, name := range names {
		n = n.child(name)
	}
	return n
}

// elems returns the child elements.
func (n *xnode) elems() []*xnode {
	if n == nil {
		return nil
	}
	var out []*xnode
	for _, k := range n.kids {
		if k.kind == xElem {
			out = append(out, k)
		}
	}
	return out
}

// textOf returns the text inside an element (its text children joined).
func (n *xnode) textOf() string {
	if n == nil {
		return ""
	}
	if len(n.kids) == 1 && n.kids[0].kind == xText {
		return n.kids[0].text
	}
	var b strings.Builder
	for _, k := range n.kids {
		if k.kind == xText {
			b.WriteString(k.text)
		}
	}
	return b.String()
}

// attr returns an attribute's value.
func (n *xnode) attr(name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attrs {
		if qname(a.Name) == name {
			return a.Value
		}
	}
	return ""
}

// setChildText sets the text of the child element name, adding it (before
// the child named before, or at the end) when missing.
func (n *xnode) setChildText(name, text, before string) {
	c := n.child(name)
	if c == nil {
		c = &xnode{kind: xElem, name: name}
		at := len(n.kids)
		if b := n.child(before); b != nil {
			for i, k := range n.kids {
				if k == b {
					at = i
				}
			}
		}
		n.kids = append(n.kids, nil)
		copy(n.kids[at+1:], n.kids[at:])
		n.kids[at] = c
	}
	c.kids = []*xnode{{kind: xText, text: text}}
}

// render writes a document: Jenkins' declaration and the root element.
func (n *xnode) render() []byte {
	var b bytes.Buffer
	b.WriteString(xmlDecl)
	n.write(&b)
	b.WriteByte('\n')
	return b.Bytes()
}

func (n *xnode) write(b *bytes.Buffer) {
	switch n.kind {
	case xText:
		escapeXML(b, n.text, false)
	case xComment:
		b.WriteString("<!--")
		b.WriteString(n.text)
		b.WriteString("-->")
	case xElem:
		b.WriteByte('<')
		b.WriteString(n.name)
		for _, a := range n.attrs {
			b.WriteByte(' ')
			b.WriteString(qname(a.Name))
			b.WriteString(`="`)
			escapeXML(b, a.Value, true)
			b.WriteByte('"')
		}
		if len(n.kids) == 0 {
			b.WriteString("/>")
			return
		}
		b.WriteByte('>')
		for _, k := range n.kids {
			k.write(b)
		}
		b.WriteString("</")
		b.WriteString(n.name)
		b.WriteByte('>')
	}
}

func escapeXML(b *bytes.Buffer, s string, attr bool) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&quot;"
		case '\'':
			if !attr {
				continue
			}
			esc = "&apos;"
		case '\r':
			esc = "&#13;"
		case '\n', '\t':
			if !attr {
				continue
			}
			esc = fmt.Sprintf("&#%d;", s[i])
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(esc)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// servedXML returns a stored document as Jenkins serves it: with its XML
// 1.1 declaration in place of the posted one.
func servedXML(data []byte) []byte {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	rest := bytes.TrimLeft(data, " \t\r\n")
	if bytes.HasPrefix(rest, []byte("<?xml")) && len(rest) > 5 && isXMLSpace(rest[5]) {
		if end := bytes.Index(rest, []byte("?>")); end >= 0 {
			rest = bytes.TrimLeft(rest[end+2:], " \t\r\n")
		}
	}
	out := make([]byte, 0, len(xmlDecl)+len(rest))
	out = append(out, xmlDecl...)
	return append(out, rest...)
}

func xmlAttr(name, value string) xml.Attr {
	return xml.Attr{Name: xml.Name{Local: name}, Value: value}
}
