package jobs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
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

// ParseYAML parses one YAML document of file, reporting a syntax error at
// its line. An empty document is an empty mapping; nil means a problem.
func ParseYAML(file string, data []byte, ps *Problems) *yaml.Node {
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

// field is one entry of a mapping: its key node and value node.
type field struct {
	key, val *yaml.Node
}

// mapping checks that n is a mapping whose keys are all in allowed (any
// keys when allowed is nil), and returns its entries by key.
// what names the mapping in messages ("job", "param MODEL_URL").
func (d *decoder) mapping(n *yaml.Node, what string, allowed ...string) map[string]field {
	out := map[string]field{}
	for _, e := range MappingEntries(n, what, allowed, d.add) {
		out[e.Key.Value] = field{key: e.Key, val: e.Val}
	}
	return out
}

// entries returns the key/value pairs of a mapping in document order,
// reporting duplicates. Used where the keys are user-chosen names.
func (d *decoder) entries(n *yaml.Node, what string) []field {
	var out []field
	for _, e := range MappingEntries(n, what, nil, d.add) {
		out = append(out, field{key: e.Key, val: e.Val})
	}
	return out
}

// resolve follows an alias to the node it names.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node { return ResolveAlias(n) }

// str reads a scalar as a string. Numbers and booleans are accepted as their
// text (a description of "1.0" is still text); null, lists and mappings are not.
func (d *decoder) str(n *yaml.Node, what string) (string, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.add(n, "%s must be a string, found %s", what, KindName(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) boolean(n *yaml.Node, what string) (bool, bool) {
	n = d.resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.add(n, "%s must be true or false, found %s", what, KindName(n))
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
		d.add(n, "%s must be an integer, found %s", what, KindName(n))
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
		d.add(n, "%s must be a list, found %s", what, KindName(n))
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
