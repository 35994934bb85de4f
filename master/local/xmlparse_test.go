package local

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// parseStd is the reference the fast parser is checked against: the same
// DOM, built from encoding/xml's strict tokenizer.
func parseStd(body []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	var stack []*xnode
	var root *xnode
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{kind: xElem, name: qname(t.Name)}
			if len(t.Attr) > 0 {
				n.attrs = append([]xml.Attr(nil), t.Attr...)
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errors.New("two roots")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 || stack[len(stack)-1].name != qname(t.Name) {
				return nil, errors.New("mismatched end")
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) == 0 {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, errors.New("text outside")
				}
				continue
			}
			if len(t) == 0 {
				continue
			}
			p := stack[len(stack)-1]
			if k := len(p.kids); k > 0 && p.kids[k-1].kind == xText {
				p.kids[k-1].text += string(t)
			} else {
				p.kids = append(p.kids, &xnode{kind: xText, text: string(t)})
			}
		case xml.Comment:
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, &xnode{kind: xComment, text: string(t)})
			}
		case xml.ProcInst:
			if t.Target == "xml" {
				return nil, errors.New("misplaced declaration")
			}
		case xml.Directive:
			return nil, errors.New("directive")
		}
	}
	if len(stack) > 0 || root == nil {
		return nil, errors.New("incomplete")
	}
	return root, nil
}

var xnodeCmp = cmp.Options{cmp.AllowUnexported(xnode{}), cmp.Comparer(func(a, b xml.Attr) bool { return a == b })}

func TestParseXMLAgreesWithEncodingXML(t *testing.T) {
	docs := map[string]string{}
	files, _ := filepath.Glob("testdata/*.xml")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[f] = string(data)
	}
	for name, doc := range map[string]string{
		"entities":     `<a x="1 &amp; 2" y='&quot;q&apos;'>&lt;&gt;&amp;&#65;&#x42;<b/>t<![CDATA[<raw> & ]]></a>`,
		"crlf":         "<a>x\r\ny\rz&#13;</a>",
		"comments":     "<!-- c --><a><!-- in --></a><!-- after --><?pi x?>",
		"namespaces":   `<a xmlns:p="u"><p:b p:c="d"/></a>`,
		"unicode":      "<a é=\"ü\">日本</a>",
		"whitespace":   "\n  <a   b = \"c\"  >  </a  >  \n",
		"deep":         strings.Repeat("<a>", 8) + strings.Repeat("</a>", 8),
		"freestyle":    freestyle{shell: []string{"echo \"$X\" && echo <'a'> & true"}, params: stringParam("X", "<&>")}.xml(),
		"pipeline":     pipelineXML("node { echo \"${params.X}\" }", false, boolParam("B", true)),
		"bad-nesting":  "<a><b></a></b>",
		"unclosed":     "<a><b></b>",
		"two-roots":    "<a/><b/>",
		"text-outside": "x<a/>",
		"bad-entity":   "<a>&nbsp;</a>",
		"bad-charref":  "<a>&#0;</a>",
		"doctype":      `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`,
		"lt-in-attr":   `<a b="<"/>`,
		"unquoted":     `<a b=c/>`,
		"bad-name":     "<1a/>",
		"control":      "<a>\x01</a>",
		"dash-comment": "<a><!-- a -- b --></a>",
		"empty":        "",
		"bad-end":      "<a></a b>",
		"lone-amp":     "<a>a & b</a>",
	} {
		docs[name] = doc
	}
	for name, doc := range docs {
		t.Run(name, func(t *testing.T) {
			_, body, err := splitDecl([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			want, wantErr := parseStd(body)
			got, gotErr := parseBody(body)
			if (wantErr == nil) != (gotErr == nil) {
				t.Fatalf("encoding/xml: %v; parseBody: %v", wantErr, gotErr)
			}
			if gotErr != nil && !errors.Is(gotErr, errXML) {
				t.Errorf("error %v does not wrap errXML", gotErr)
			}
			if diff := cmp.Diff(want, got, xnodeCmp); diff != "" {
				t.Errorf("DOM (-encoding/xml +parseBody):\n%s", diff)
			}
		})
	}
}

func FuzzParseXML(f *testing.F) {
	for _, s := range []string{"<a/>", `<a b="c">d&amp;<e/></a>`, "<a><![CDATA[x]]><!--c--></a>", "<a>\r\n</a>"} {
		f.Add([]byte(s))
	}
	if data, err := os.ReadFile("testdata/folder.xml"); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := parseBody(body)
		if gotErr != nil {
			return
		}
		// What the fast parser accepts, encoding/xml accepts the same way.
		want, wantErr := parseStd(body)
		if wantErr != nil {
			t.Fatalf("parseBody accepted what encoding/xml refuses (%v): %q", wantErr, body)
		}
		if diff := cmp.Diff(want, got, xnodeCmp); diff != "" {
			t.Fatalf("DOM (-encoding/xml +parseBody):\n%s", diff)
		}
		// And its rendering parses back to the same DOM.
		again, _, err := parseXML(got.render())
		if err != nil {
			t.Fatalf("render does not parse: %v", err)
		}
		if diff := cmp.Diff(got, again, xnodeCmp); diff != "" {
			t.Fatalf("render round trip (-before +after):\n%s", diff)
		}
	})
}

func BenchmarkParseWorkerConfig(b *testing.B) {
	data, err := os.ReadFile("testdata/worker.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		if _, _, _, _, err := readConfig(data); err != nil {
			b.Fatal(err)
		}
	}
}
