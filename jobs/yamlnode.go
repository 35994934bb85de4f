package jobs

import (
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// The helpers below read YAML nodes the way every jobctl input file is read:
// positions kept, every problem reported, nothing decoded blindly. They are
// shared by job.yaml, jobctl.yaml and flow files.

// Entry is one key/value pair of a YAML mapping.
type Entry struct {
	Key, Val *yaml.Node
}

// MappingEntries checks that n is a mapping (null counts as empty) of
// plain, unique string keys, all in allowed unless allowed is empty, and
// returns its entries in document order. Each problem is reported through
// add at the node it concerns; what names the mapping in messages.
func MappingEntries(n *yaml.Node, what string, allowed []string, add func(at *yaml.Node, format string, args ...any)) []Entry {
	n = ResolveAlias(n)
	if n == nil || n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		add(n, "%s must be a mapping, found %s", what, KindName(n))
		return nil
	}
	seen := map[string]int{}
	var out []Entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case k.Kind != yaml.ScalarNode || k.Tag == "!!null":
			add(k, "%s: keys must be plain strings", what)
			continue
		case k.Value == "<<":
			add(k, "%s: YAML merge keys (<<) are not supported; write the keys out", what)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			add(k, "%s: duplicate key %q (first at line %d)", what, k.Value, line)
			continue
		}
		if len(allowed) > 0 && !contains(allowed, k.Value) {
			add(k, "%s: unknown key %q%s", what, k.Value, hintOrList(k.Value, allowed))
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, Entry{Key: k, Val: v})
	}
	return out
}

// ResolveAlias follows an alias to the node it names.
func ResolveAlias(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	return n
}

// KindName names what a node is, for messages: "a mapping", "a list", "null", …
func KindName(n *yaml.Node) string {
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

func hintOrList(s string, allowed []string) string {
	if h := DidYouMean(s, allowed); h != "" {
		return h
	}
	sorted := append([]string(nil), allowed...)
	sort.Strings(sorted)
	return "; expected one of: " + strings.Join(sorted, ", ")
}
