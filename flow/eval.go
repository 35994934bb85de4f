package flow

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Value is a run-time value, shaped like decoded JSON: nil, bool, float64,
// string, map[string]any or []any.
type Value = any

// Env is what expressions read when they are evaluated: the orchestration's
// params and the reports of the steps that ran.
type Env interface {
	// Param returns a param's value: a string, or a bool for a boolean
	// param; nil when it was not given and has no default.
	Param(name string) Value
	// Step returns a step's report; ran is false when the step did not run
	// (its phase's when was false, or an earlier failure stopped the flow).
	Step(name string) (status, reason string, data map[string]any, ran bool)
}

// Skipped is the status a step reads as when it did not run.
const Skipped = "SKIPPED"

// Statuses a step can report; comparing a status with another literal is
// an error at compile time.
var Statuses = []string{"SUCCESS", "FAILURE", "UNSTABLE", "ABORTED", Skipped}

// Eval returns the literal's value.
func (e *Lit) Eval(Env) (Value, error) { return e.Val, nil }

// Eval reads the param.
func (e *ParamRef) Eval(env Env) (Value, error) { return normalize(env.Param(e.Name)), nil }

// Eval reads the step's report. A step that did not run reads as status
// SKIPPED, reason "" and null data.
func (e *StepRef) Eval(env Env) (Value, error) {
	status, reason, data, ran := env.Step(e.Step)
	if !ran {
		status, reason, data = Skipped, "", nil
	}
	switch e.Field {
	case "status":
		return status, nil
	case "reason":
		return reason, nil
	}
	var v Value
	if data != nil {
		v = data
	}
	for _, name := range e.Path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, nil
		}
		v = m[name]
	}
	return normalize(v), nil
}

// Eval applies !; null counts as false.
func (e *Unary) Eval(env Env) (Value, error) {
	b, err := evalBool(e.X, env)
	if err != nil {
		return nil, err
	}
	return !b, nil
}

// Eval applies a comparison or a logical operator. && and || short-circuit.
func (e *Binary) Eval(env Env) (Value, error) {
	switch e.Op {
	case "&&", "||":
		x, err := evalBool(e.X, env)
		if err != nil {
			return nil, err
		}
		if x == (e.Op == "||") {
			return x, nil
		}
		return evalBool(e.Y, env)
	}
	x, err := e.X.Eval(env)
	if err != nil {
		return nil, err
	}
	y, err := e.Y.Eval(env)
	if err != nil {
		return nil, err
	}
	x, y = normalize(x), normalize(y)
	switch e.Op {
	case "==":
		return equal(x, y), nil
	case "!=":
		return !equal(x, y), nil
	}
	if x == nil || y == nil {
		// A step that did not run, or a field it did not report: no order
		// holds, as with NaN.
		return false, nil
	}
	c, err := order(x, y)
	if err != nil {
		return nil, &EvalError{Pos: e.OpPos, Msg: err.Error()}
	}
	switch e.Op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

// Eval builds the string. Null interpolates as the empty string; numbers
// as FormatNumber writes them; objects and arrays are an error.
func (e *Template) Eval(env Env) (Value, error) {
	var b strings.Builder
	for _, p := range e.Parts {
		if p.Expr == nil {
			b.WriteString(p.Text)
			continue
		}
		v, err := p.Expr.Eval(env)
		if err != nil {
			return nil, err
		}
		s, err := Text(v)
		if err != nil {
			return nil, &EvalError{Pos: p.Expr.Position(), Msg: err.Error()}
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// Text formats a scalar value as interpolation does.
func Text(v Value) (string, error) {
	switch x := normalize(v).(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return FormatNumber(x), nil
	case map[string]any:
		return "", fmt.Errorf("cannot interpolate an object into a string")
	case []any:
		return "", fmt.Errorf("cannot interpolate an array into a string")
	}
	return "", fmt.Errorf("cannot interpolate a %T into a string", v)
}

func evalBool(e Expr, env Env) (bool, error) {
	v, err := e.Eval(env)
	if err != nil {
		return false, err
	}
	switch x := normalize(v).(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	}
	return false, &EvalError{Pos: e.Position(), Msg: "want a boolean, found " + jsonType(v).article()}
}

// normalize turns the number types a decoder may produce into float64.
func normalize(v Value) Value {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case float32:
		return float64(x)
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return f
		}
		return x.String()
	}
	return v
}

func jsonType(v Value) Type {
	switch normalize(v).(type) {
	case nil:
		return Null
	case bool:
		return Boolean
	case float64:
		return Number
	case string:
		return String
	case map[string]any:
		return Object
	case []any:
		return Array
	}
	return Any
}

func equal(x, y Value) bool {
	switch x.(type) {
	case nil:
		return y == nil
	case bool, string, float64:
		return x == y
	case map[string]any, []any:
		return reflect.DeepEqual(x, y)
	}
	return false
}

// order compares two numbers or two strings.
func order(x, y Value) (int, error) {
	switch a := x.(type) {
	case float64:
		if b, ok := y.(float64); ok {
			switch {
			case a < b:
				return -1, nil
			case a > b:
				return 1, nil
			case a == b:
				return 0, nil
			}
			return 0, fmt.Errorf("cannot order NaN")
		}
	case string:
		if b, ok := y.(string); ok {
			return strings.Compare(a, b), nil
		}
	}
	return 0, fmt.Errorf("cannot order %s and %s", jsonType(x).article(), jsonType(y).article())
}

// EvalError is a failure while evaluating an expression, at the position of
// the offending sub-expression.
type EvalError struct {
	Pos Pos
	Msg string
}

func (e *EvalError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg) }

// Eval builds the object; fields whose value is null are kept (as JSON null).
func (e *Map) Eval(env Env) (Value, error) {
	m := make(map[string]any, len(e.Fields))
	for _, f := range e.Fields {
		v, err := f.Value.Eval(env)
		if err != nil {
			return nil, err
		}
		m[f.Name] = normalize(v)
	}
	return m, nil
}

// Eval builds the array.
func (e *List) Eval(env Env) (Value, error) {
	out := make([]any, len(e.Items))
	for i, it := range e.Items {
		v, err := it.Eval(env)
		if err != nil {
			return nil, err
		}
		out[i] = normalize(v)
	}
	return out, nil
}
