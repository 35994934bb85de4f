package jobs

import (
	"fmt"
	"strconv"
	"strings"

	version "github.com/hashicorp/go-version"
)

// A VersionCheck is one comparison a found version must pass: Op is one of
// = != > < >= <=, Version is dotted digits. A constraint compiles to a list
// of them, all of which must hold, so that the worker wrapper can check a
// tool on the agent with plain numeric comparisons.
type VersionCheck struct {
	Op      string
	Version string
}

// VersionChecks validates a go-version constraint such as "~> 8.12" or
// ">= 1.2, < 2" and compiles it to plain comparisons. Pessimistic "~> X.Y"
// becomes ">= X.Y" and "< X+1", as go-version defines it; pre-release
// versions are rejected, since tools print release versions.
func VersionChecks(constraint string) ([]VersionCheck, error) {
	if strings.TrimSpace(constraint) == "" {
		return nil, fmt.Errorf("empty version constraint; write e.g. \">= 1.2\" or \"~> 8.12\"")
	}
	if _, err := version.NewConstraint(constraint); err != nil {
		return nil, fmt.Errorf("invalid version constraint %q; write e.g. \">= 1.2\", \"~> 8.12\" or \">= 1.2, < 2\"", constraint)
	}
	var out []VersionCheck
	for _, part := range strings.Split(constraint, ",") {
		part = strings.TrimSpace(part)
		op := "="
		for _, o := range []string{"~>", ">=", "<=", "!=", ">", "<", "="} {
			if strings.HasPrefix(part, o) {
				op, part = o, strings.TrimSpace(part[len(o):])
				break
			}
		}
		v, err := version.NewVersion(part)
		if err != nil {
			return nil, fmt.Errorf("invalid version %q in constraint %q", part, constraint)
		}
		if v.Prerelease() != "" || v.Metadata() != "" {
			return nil, fmt.Errorf("constraint %q: pre-release and build metadata versions are not supported; compare release versions only", constraint)
		}
		segs := strings.Split(strings.TrimPrefix(part, "v"), ".")
		for i, s := range segs {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("invalid version %q in constraint %q", part, constraint)
			}
			segs[i] = strconv.FormatInt(n, 10)
		}
		if op != "~>" {
			out = append(out, VersionCheck{Op: op, Version: strings.Join(segs, ".")})
			continue
		}
		out = append(out, VersionCheck{Op: ">=", Version: strings.Join(segs, ".")})
		if len(segs) > 1 {
			upper := append([]string(nil), segs[:len(segs)-1]...)
			last, _ := strconv.ParseInt(upper[len(upper)-1], 10, 64)
			upper[len(upper)-1] = strconv.FormatInt(last+1, 10)
			out = append(out, VersionCheck{Op: "<", Version: strings.Join(upper, ".")})
		}
	}
	return out, nil
}

// CompareVersions compares dotted-digit versions numerically, segment by
// segment, missing segments counting as 0: it returns -1, 0 or 1. It is the
// comparison the worker wrapper performs in bash.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		// Compare as arbitrarily long decimal numbers: by length, then digits.
		x, y := segment(as, i), segment(bs, i)
		switch {
		case len(x) != len(y) && len(x) < len(y), len(x) == len(y) && x < y:
			return -1
		case x != y:
			return 1
		}
	}
	return 0
}

func segment(segs []string, i int) string {
	if i >= len(segs) {
		return "0"
	}
	s := strings.TrimLeft(segs[i], "0")
	if s == "" {
		return "0"
	}
	return s
}

// Holds reports whether version v (dotted digits) passes every check.
func Holds(checks []VersionCheck, v string) bool {
	for _, c := range checks {
		cmp := CompareVersions(v, c.Version)
		var ok bool
		switch c.Op {
		case "=":
			ok = cmp == 0
		case "!=":
			ok = cmp != 0
		case ">":
			ok = cmp > 0
		case "<":
			ok = cmp < 0
		case ">=":
			ok = cmp >= 0
		case "<=":
			ok = cmp <= 0
		}
		if !ok {
			return false
		}
	}
	return true
}
