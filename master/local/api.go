package local

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The JSON API, as Stapler's exporter writes it: every object is a bean
// with a class (written as _class when Jenkins writes it) and exported
// properties, each with a visibility. Without tree=, depth=N keeps a
// property of an object nested L levels deep when its visibility is at
// least 1-N+L (inline properties do not add a level). With tree=, exactly
// the named properties are written, at any depth; a named property whose
// value is an object but has no sub-tree is written as just its _class.
//
// Values are computed only for the properties written, from the
// in-memory model, under the master's read lock.

// jobj is an exported bean.
type jobj struct {
	class string  // "" when Jenkins writes no _class (the declared type is exact)
	props []jprop // its exported properties, in the order they are written
	recv  any     // passed to the getters
}

// jprop is an exported property.
type jprop struct {
	name   string
	vis    int
	inline bool
	get    func(c *jctx, recv any) any
}

// jlist is a list computed element by element.
type jlist struct {
	n  int
	at func(i int) any
}

// pruner decides which properties are written.
type pruner struct {
	tree *tree // tree mode when non-nil
	n    int   // depth mode: properties with visibility >= n
}

// tree is a parsed tree= parameter level: the properties to write.
type tree struct {
	kids []*treeNode
}

type treeNode struct {
	name   string
	sub    *tree
	lo, hi int // the {lo,hi} range of a list; hi < 0: to the end
}

// accept returns the pruner for a property's value, and whether the
// property is written at all.
func (p pruner) accept(pr *jprop) (pruner, *treeNode, bool) {
	if p.tree != nil {
		var star *treeNode
		for _, k := range p.tree.kids {
			if k.name == pr.name {
				return pruner{tree: k.sub}, k, true
			}
			if k.name == "*" {
				star = k
			}
		}
		if star != nil {
			return pruner{tree: star.sub}, star, true
		}
		return pruner{}, nil, false
	}
	if pr.vis < p.n {
		return pruner{}, nil, false
	}
	if pr.inline {
		return p, nil, true
	}
	return pruner{n: p.n + 1}, nil, true
}

// depthPruner is the pruner of ?depth=N.
func depthPruner(depth int) pruner { return pruner{n: 1 - depth} }

var errTree = errors.New("invalid tree parameter")

// parseTree parses a tree= value: name[sub,...]{M,N}, comma-separated.
func parseTree(s string) (*tree, error) {
	p := &treeParser{s: s}
	t, err := p.list()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.s) {
		return nil, errTree
	}
	return t, nil
}

type treeParser struct {
	s string
	i int
}

func (p *treeParser) list() (*tree, error) {
	t := &tree{}
	for {
		start := p.i
		for p.i < len(p.s) && !strings.ContainsRune("[]{},", rune(p.s[p.i])) {
			p.i++
		}
		name := strings.TrimSpace(p.s[start:p.i])
		if name == "" {
			return nil, errTree
		}
		n := &treeNode{name: name, sub: &tree{}, hi: -1}
		if p.i < len(p.s) && p.s[p.i] == '[' {
			p.i++
			sub, err := p.list()
			if err != nil {
				return nil, err
			}
			if p.i >= len(p.s) || p.s[p.i] != ']' {
				return nil, errTree
			}
			p.i++
			n.sub = sub
		}
		if p.i < len(p.s) && p.s[p.i] == '{' {
			end := strings.IndexByte(p.s[p.i:], '}')
			if end < 0 {
				return nil, errTree
			}
			if err := n.parseRange(p.s[p.i+1 : p.i+end]); err != nil {
				return nil, err
			}
			p.i += end + 1
		}
		t.kids = append(t.kids, n)
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		return t, nil
	}
}

// parseRange parses Stapler's ranges: {N}, {M,N}, {M,} and {,N}.
func (n *treeNode) parseRange(s string) error {
	num := func(s string, def int) (int, error) {
		s = strings.TrimSpace(s)
		if s == "" {
			return def, nil
		}
		v, err := strconv.Atoi(s)
		if err != nil || v < 0 {
			return 0, errTree
		}
		return v, nil
	}
	lo, hi, comma := strings.Cut(s, ",")
	var err error
	if n.lo, err = num(lo, 0); err != nil {
		return err
	}
	if !comma {
		n.hi = n.lo + 1
		return nil
	}
	n.hi, err = num(hi, -1)
	return err
}

// jctx encodes values for one response.
type jctx struct {
	m    *Master
	base string // the root URL, from the request
	now  time.Time
	buf  []byte
}

func (c *jctx) encode(v any, p pruner) []byte {
	c.value(v, p, nil)
	return c.buf
}

func (c *jctx) value(v any, p pruner, rng *treeNode) {
	switch x := v.(type) {
	case nil:
		c.buf = append(c.buf, "null"...)
	case bool:
		c.buf = strconv.AppendBool(c.buf, x)
	case int:
		c.buf = strconv.AppendInt(c.buf, int64(x), 10)
	case int64:
		c.buf = strconv.AppendInt(c.buf, x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			c.buf = append(c.buf, "null"...)
		} else {
			c.buf = strconv.AppendFloat(c.buf, x, 'g', -1, 64)
		}
	case string:
		c.str(x)
	case *string:
		if x == nil {
			c.buf = append(c.buf, "null"...)
		} else {
			c.str(*x)
		}
	case jobj:
		c.object(x, p)
	case *jobj:
		if x == nil {
			c.buf = append(c.buf, "null"...)
		} else {
			c.object(*x, p)
		}
	case []string:
		c.list(len(x), func(i int) { c.str(x[i]) }, rng)
	case []any:
		c.list(len(x), func(i int) { c.value(x[i], p, nil) }, rng)
	case []jobj:
		c.list(len(x), func(i int) { c.object(x[i], p) }, rng)
	case jlist:
		c.list(x.n, func(i int) { c.value(x.at(i), p, nil) }, rng)
	default:
		panic(fmt.Sprintf("local master: cannot encode a %T", v))
	}
}

func (c *jctx) list(n int, write func(i int), rng *treeNode) {
	lo, hi := 0, n
	if rng != nil {
		lo = min(rng.lo, n)
		if rng.hi >= 0 {
			hi = min(rng.hi, n)
		}
		if hi < lo {
			hi = lo
		}
	}
	c.buf = append(c.buf, '[')
	for i := lo; i < hi; i++ {
		if i > lo {
			c.buf = append(c.buf, ',')
		}
		write(i)
	}
	c.buf = append(c.buf, ']')
}

func (c *jctx) object(o jobj, p pruner) {
	c.buf = append(c.buf, '{')
	first := true
	if o.class != "" {
		c.buf = append(c.buf, `"_class":`...)
		c.str(o.class)
		first = false
	}
	for i := range o.props {
		pr := &o.props[i]
		sub, rng, ok := p.accept(pr)
		if !ok {
			continue
		}
		if !first {
			c.buf = append(c.buf, ',')
		}
		first = false
		c.str(pr.name)
		c.buf = append(c.buf, ':')
		c.value(pr.get(c, o.recv), sub, rng)
	}
	c.buf = append(c.buf, '}')
}

const hexDigits = "0123456789abcdef"

// str writes a JSON string.
func (c *jctx) str(s string) {
	c.buf = append(c.buf, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			c.buf = append(c.buf, s[start:i]...)
			switch b {
			case '"', '\\':
				c.buf = append(c.buf, '\\', b)
			case '\n':
				c.buf = append(c.buf, '\\', 'n')
			case '\r':
				c.buf = append(c.buf, '\\', 'r')
			case '\t':
				c.buf = append(c.buf, '\\', 't')
			default:
				c.buf = append(c.buf, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			c.buf = append(c.buf, s[start:i]...)
			c.buf = append(c.buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			c.buf = append(c.buf, s[start:i]...)
			c.buf = append(c.buf, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	c.buf = append(c.buf, s[start:]...)
	c.buf = append(c.buf, '"')
}
