package mocks

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Trace is what happened in one run of a case: the calls made, the sh
// steps run (raw Groovy only) and the orchestration's outcome. It is kept
// as a golden file next to the case.
type Trace struct {
	Calls   []Call
	Sh      []ShCall
	Outcome Outcome
}

// Call is one build of a job. Calls of the steps of one phase are listed
// in step order, each step's attempts in order.
type Call struct {
	// Phase is the flow phase, or the innermost stage of a Groovy script.
	Phase  string
	Job    string
	Params map[string]string
	// Result is the status the mocked build ended with.
	Result string
}

// ShCall is one sh step of a raw Groovy orchestration.
type ShCall struct {
	Command string
	Status  int
}

// Outcome is how the run ended: the build's status, and the reason and
// data of the report it archived.
type Outcome struct {
	Status string
	Reason string
	Data   map[string]any
}

// traceDoc is the YAML shape of a golden trace.
type traceDoc struct {
	Calls   []callDoc  `yaml:"calls"`
	Sh      []shDoc    `yaml:"sh,omitempty"`
	Outcome outcomeDoc `yaml:"outcome"`
}

type callDoc struct {
	Phase  string            `yaml:"phase"`
	Job    string            `yaml:"job"`
	Params map[string]string `yaml:"params,omitempty"`
	Result string            `yaml:"result"`
}

type shDoc struct {
	Command string `yaml:"command"`
	Status  int    `yaml:"status"`
}

type outcomeDoc struct {
	Status string         `yaml:"status"`
	Reason string         `yaml:"reason"`
	Data   map[string]any `yaml:"data"`
}

// Golden renders the trace as its golden file for the case file: YAML with
// sorted keys, the same bytes for the same trace.
func (t *Trace) Golden(caseFile string) []byte {
	doc := traceDoc{Calls: []callDoc{}, Outcome: outcomeDoc{Status: t.Outcome.Status, Reason: t.Outcome.Reason, Data: map[string]any{}}}
	for _, c := range t.Calls {
		doc.Calls = append(doc.Calls, callDoc{Phase: c.Phase, Job: c.Job, Params: c.Params, Result: c.Result})
	}
	for _, s := range t.Sh {
		doc.Sh = append(doc.Sh, shDoc{Command: s.Command, Status: s.Status})
	}
	for k, v := range t.Outcome.Data {
		doc.Outcome.Data[k] = yamlValue(v)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "# The recorded trace of %s, checked by jobctl test.\n# Refresh it with: jobctl test --update\n", caseFile)
	var n yaml.Node
	if err := n.Encode(doc); err != nil {
		// Only strings, numbers, booleans, maps and slices reach here.
		panic(fmt.Sprintf("encoding a trace: %v", err))
	}
	flowScalarLists(&n)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		panic(fmt.Sprintf("encoding a trace: %v", err))
	}
	enc.Close()
	return b.Bytes()
}

// flowScalarLists writes lists of short scalars on one line: [20, 20, 20].
func flowScalarLists(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
		short := true
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode || len(c.Value) > 40 || strings.ContainsAny(c.Value, "\n") {
				short = false
				break
			}
		}
		if short {
			n.Style = yaml.FlowStyle
			return
		}
	}
	for _, c := range n.Content {
		flowScalarLists(c)
	}
}

// yamlValue makes whole numbers integers, so that YAML writes 8000, not 8e+03.
func yamlValue(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return int64(x)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = yamlValue(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = yamlValue(e)
		}
		return out
	}
	return v
}

// String renders a call for messages: job [phase] A=x, B=y -> RESULT.
func (c Call) String() string {
	var b strings.Builder
	b.WriteString(c.Job)
	if c.Phase != "" {
		b.WriteString(" [" + c.Phase + "]")
	}
	keys := make([]string, 0, len(c.Params))
	for k := range c.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i == 0 {
			b.WriteString(" ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(k + "=" + shorten(c.Params[k], 60))
	}
	if c.Result != "" {
		b.WriteString(" -> " + c.Result)
	}
	return b.String()
}

func shorten(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
