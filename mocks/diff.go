package mocks

import (
	"fmt"
	"strings"
)

// lineDiff shows how text after differs from text before, line by line: removed
// lines start with "-", added ones with "+", and two lines of context
// around each change are kept ("  "); runs of unchanged lines between
// changes are shown as "  …".
func lineDiff(before, after string) string {
	x := strings.Split(strings.TrimSuffix(before, "\n"), "\n")
	y := strings.Split(strings.TrimSuffix(after, "\n"), "\n")
	if len(x)*len(y) > 4_000_000 {
		return fmt.Sprintf("  (too long to diff: %d lines against %d)", len(x), len(y))
	}
	// lcs[i][j] is the length of the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int32, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int32, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var ops []line
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case i < len(x) && j < len(y) && x[i] == y[j]:
			ops = append(ops, line{' ', x[i]})
			i++
			j++
		case i < len(x) && (j == len(y) || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, line{'-', x[i]})
			i++
		default:
			ops = append(ops, line{'+', y[j]})
			j++
		}
	}
	const context = 2
	keep := make([]bool, len(ops))
	for k, op := range ops {
		if op.op != ' ' {
			for c := max(0, k-context); c <= min(len(ops)-1, k+context); c++ {
				keep[c] = true
			}
		}
	}
	var b strings.Builder
	skipped := false
	for k, op := range ops {
		if !keep[k] {
			skipped = true
			continue
		}
		if skipped {
			b.WriteString("  …\n")
			skipped = false
		}
		b.WriteByte(op.op)
		b.WriteByte(' ')
		b.WriteString(op.text)
		b.WriteByte('\n')
	}
	return strings.TrimSuffix(b.String(), "\n")
}
