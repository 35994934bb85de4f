package jobs

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// A Problem is one thing wrong with a user's input file, with the place it
// was found. Line and Col are 1-based; 0 means unknown (the whole file).
type Problem struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (p *Problem) Error() string {
	switch {
	case p.Line > 0 && p.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Msg)
	case p.Line > 0:
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	case p.File != "":
		return fmt.Sprintf("%s: %s", p.File, p.Msg)
	}
	return p.Msg
}

// Problems collects every problem found in a run, so that a user sees them
// all at once instead of one per run.
type Problems struct {
	list []*Problem
}

// Add records a problem at file:line:col.
func (ps *Problems) Add(file string, line, col int, format string, args ...any) {
	ps.list = append(ps.list, &Problem{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

// AddProblem records an existing problem.
func (ps *Problems) AddProblem(p *Problem) { ps.list = append(ps.list, p) }

// Merge appends every problem of other.
func (ps *Problems) Merge(other *Problems) {
	if other != nil {
		ps.list = append(ps.list, other.list...)
	}
}

// Len reports how many problems were recorded.
func (ps *Problems) Len() int { return len(ps.list) }

// Err returns nil when nothing was recorded, and otherwise an *InputError
// holding every problem sorted by file and position.
func (ps *Problems) Err() error {
	if len(ps.list) == 0 {
		return nil
	}
	list := append([]*Problem(nil), ps.list...)
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return &InputError{Problems: list}
}

// An InputError is returned when the user's files are wrong: the command
// exits with status 1 and prints every problem, one per line.
type InputError struct {
	Problems []*Problem
}

func (e *InputError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap lets errors.As find a single problem.
func (e *InputError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// IsInputError reports whether err is (or wraps) a problem with the user's input.
func IsInputError(err error) bool {
	var ie *InputError
	var p *Problem
	return errors.As(err, &ie) || errors.As(err, &p)
}

// didYouMean returns the candidate closest to s, if it is close enough to be a
// likely misspelling, or "".
func didYouMean(s string, candidates []string) string {
	best, bestDist := "", -1
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if bestDist < 0 || d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	limit := len(s) / 3
	if limit < 1 {
		limit = 1
	}
	if limit > 3 {
		limit = 3
	}
	if bestDist > limit || bestDist >= len(s) {
		return ""
	}
	return best
}

// DidYouMean is didYouMean formatted as a hint: "; did you mean "x"?" or "".
func DidYouMean(s string, candidates []string) string {
	if m := didYouMean(s, candidates); m != "" {
		return fmt.Sprintf("; did you mean %q?", m)
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b, over bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		// Long strings are never a typo of each other worth suggesting.
		if a == b {
			return 0
		}
		return 1 << 20
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
