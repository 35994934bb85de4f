package jobs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks a yaml.Node tree and records every problem with its
// file:line:col, instead of stopping at the first one as yaml.Unmarshal does.
type decoder struct {
	file string
	ps   *Problems
}

// parseYAML parses one YAML document. An empty document is an empty mapping.
func parseYAML(file string, data []byte, ps *Problems) *yaml.Node {
	if bytes.IndexByte(data, 0) >= 0 {
		ps.Add(file, 0, 0, "the file contains a NUL byte; is it a text file?")
		return nil
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &yaml.Node{Kind: yaml.MappingNode, Line: 1, Column: 1}
		}
		line, msg := yamlErrorLine(err)
		ps.Add(file, line, 0, "%s", msg)
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		ps.Add(file, extra.Line, extra.Column, "a second YAML document is not allowed here; remove the '---'")
		return nil
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode, Line: 1, Column: 1}
	}
	return doc.Content[0]
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlErrorLine extracts the line number from a yaml.v3 syntax error.
func yamlErrorLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n, "invalid YAML: " + m[2]
	}
	return 0, "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")
}

func (d *decoder) add(n *yaml.Node, format string, args ...any) {
	line, col := 0, 0
	if n != nil {
		line, col = n.Line, n.Column
	}
	d.ps.Add(d.file, line, col, format, args...)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!bool":
			return "a boolean"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		}
		return "a string"
	}
	return "an unknown node"
}

// field is one entry of a mapping: its key node and value node.
type field struct {
	key, val *yaml.Node
}

// mapping checks that n is a mapping whose keys are all in allowed, and
// returns its entries by key. Unknown and duplicate keys are reported.
// what names the mapping in messages ("job", "param MODEL_URL").
func (d *decoder) mapping(n *yaml.Node, what string, allowed ...string) map[string]field {
	out := map[string]field{}
	if n == nil {
		return out
	}
	n = d.resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return out
	}
	if n.Kind != yaml.MappingNode {
		d.add(n, "%s must be a mapping, found %s", what, kindName(n))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.add(k, "%s: keys must be plain strings", what)
			continue
		}
		if k.Value == "<<" {
			d.add(k, "%s: YAML merge keys (<<) are not supported; write the keys out", what)
			continue
		}
		if prev, dup := out[k.Value]; dup {
			d.add(k, "%s: duplicate key %q (first at line %d)", what, k.Value, prev.key.Line)
			continue
		}
		if allowed != nil && !contains(allowed, k.Value) {
			d.add(k, "%s: unknown key %q%s", what, k.Value, hintOrList(k.Value, allowed))
			continue
		}
		out[k.Value] = field{key: k, val: v}
	}
	return out
}

func hintOrList(s string, allowed []string) string {
	if h := DidYouMean(s, allowed); h != "" {
		return h
	}
	sorted := append([]string(nil), allowed...)
	sort.Strings(sorted)
	return "; expected one of: " + strings.Join(sorted, ", ")
}

// entries returns the key/value pairs of a mapping in document order,
// reporting duplicates. Used where the keys are user-chosen names.
func (d *decoder) entries(n *yaml.Node, what string) []field {
	if n == nil {
		return nil
	}
	n = d.resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		d.add(n, "%s must be a mapping, found %s", what, kindName(n))
		return nil
	}
	seen := map[string]int{}
	var out []field
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			d.add(k, "%s: keys must be plain strings", what)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.add(k, "%s: duplicate key %q (first at line %d)", what, k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, field{key: k, val: v})
	}
	return out
}

// resolve follows an alias to the node it names.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// str reads a scalar as a string. Numbers and booleans are accepted as their
// text (a description of "1.0" is still text); null, lists and mappings are not.
func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.add(n, "%s must be a string, found %s", what, kindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, what string) (bool, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.add(n, "%s must be true or false, found %s", what, kindName(n))
		return false, false
	}
	b, err := strconv.ParseBool(strings.ToLower(n.Value))
	if err != nil {
		d.add(n, "%s must be true or false, found %q", what, n.Value)
		return false, false
	}
	return b, true
}

func (d *decoder) integer(n *yaml.Node, what string, lo, hi int) (int, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.add(n, "%s must be an integer, found %s", what, kindName(n))
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 0, 64)
	if err != nil || v < int64(lo) || v > int64(hi) {
		d.add(n, "%s must be an integer from %d to %d, found %s", what, lo, hi, n.Value)
		return 0, false
	}
	return int(v), true
}

func (d *decoder) strList(n *yaml.Node, what string) ([]string, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.add(n, "%s must be a list, found %s", what, kindName(n))
		return nil, false
	}
	out := make([]string, 0, len(n.Content))
	ok := true
	for _, c := range n.Content {
		s, good := d.str(c, what+" entries")
		ok = ok && good
		out = append(out, s)
	}
	return out, ok
}

// duration reads a duration such as "90s", "30m", "1h30m" or "7d".
func (d *decoder) duration(n *yaml.Node, what string) (time.Duration, bool) {
	s, ok := d.str(n, what)
	if !ok {
		return 0, false
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.add(n, "%s: %v", what, err)
		return 0, false
	}
	if v <= 0 {
		d.add(n, "%s must be longer than zero, found %q", what, s)
		return 0, false
	}
	return v, true
}

// ParseDuration parses Go durations ("90s", "1h30m") and whole days ("7d",
// "2d12h"), as operators write retention windows.
func ParseDuration(s string) (time.Duration, error) {
	orig := s
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("invalid duration %q; write it like 90s, 30m, 2h or 7d", orig)
		}
		days = time.Duration(n) * 24 * time.Hour
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil || strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("invalid duration %q; write it like 90s, 30m, 2h or 7d", orig)
	}
	return days + v, nil
}

// FormatDuration writes d compactly: 90s → "1m30s", 7 days → "7d".
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dm", m)
		d -= m * time.Minute
	}
	if d > 0 {
		if d%time.Second == 0 {
			fmt.Fprintf(&b, "%ds", d/time.Second)
		} else {
			b.WriteString(d.String())
		}
	}
	return b.String()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
