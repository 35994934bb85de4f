package flow

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/jobctl/jobctl/jobs"
)

// Executor runs the jobs a flow calls. Run calls it once per attempt of
// every step that runs.
type Executor interface {
	// Execute runs one call to the end. An error is a failure of the run
	// itself (no mock for the call, the master unreachable), not of the job:
	// a job that ran and failed is a Result with a status other than SUCCESS.
	Execute(ctx context.Context, c Call) (Result, error)
}

// Call is one attempt of a step.
type Call struct {
	Phase string
	Step  string
	// Job is the callee's common name.
	Job string
	// Attempt counts from 1.
	Attempt int
	// Params are the params passed, in the order the flow writes them, as
	// the text the build receives. Null values are left out.
	Params []Param
}

// Param is a param passed to a job, as text.
type Param struct {
	Name  string
	Value string
}

// Result is what a called job reported.
type Result struct {
	Status string
	Reason string
	// Data is the report's data; nil when the job left none.
	Data map[string]any
}

// Outcome is the flow's own report.
type Outcome struct {
	Status string
	Reason string
	Data   map[string]any
}

// Options tune Run.
type Options struct {
	// Concurrent runs the steps of a phase at the same time, as a master
	// does. Offline tests run them one after the other, in step order, so
	// that successive mocks of one job are handed out deterministically.
	Concurrent bool
}

// Run interprets the flow of orchestration job with params as the master
// passes them (a string per param, a bool for boolean params; see
// ResolveParams), calling ex for every attempt of every step. Its
// semantics are those of the Groovy jobctl generates from the flow:
//
//   - R0: a required param that is empty fails the flow before any phase
//     runs ("required param X is empty"); the report data is then {}.
//   - R2: phases run in order; after a failure (a step that may not fail
//     failed) or an evaluation error, later phases are skipped. A when
//     that is false or null skips its phase.
//   - R3: a step evaluates its params first (an error skips the step and
//     fails the flow), then calls its job up to 1+Retry times, stopping
//     at the first SUCCESS; the last attempt is the step's report.
//   - R5: the report: the first evaluation error, if any, makes it
//     FAILURE with the error as reason; otherwise status and reason are as
//     written or DefaultOutcome. Data entries that are null are left out.
//
// An error from ex, or ctx ending, ends the run with that error and no
// Outcome; anything else, evaluation errors included, ends in an Outcome.
func Run(ctx context.Context, f *Flow, job *jobs.Job, params map[string]Value, ex Executor, opt Options) (*Outcome, error) {
	r := &run{flow: f, params: params, ran: map[string]Result{}}
	if names := emptyRequired(job, params); len(names) > 0 {
		return &Outcome{Status: "FAILURE", Reason: requiredReason(names), Data: map[string]any{}}, nil
	}
	failed := false
	for _, ph := range f.Phases {
		if failed || r.ferr != "" {
			continue
		}
		if ph.When != nil {
			ok, err := evalBool(ph.When, r)
			if err != nil {
				r.fail(err)
				continue
			}
			if !ok {
				continue
			}
		}
		if err := r.phase(ctx, ph, ex, opt.Concurrent); err != nil {
			return nil, err
		}
		for _, st := range ph.Steps {
			if res, ok := r.ran[st.Name]; ok && res.Status != "SUCCESS" && !st.AllowFailure {
				failed = true
			}
		}
	}
	return r.report(job), nil
}

// run is the state of one Run; it is the Env expressions read.
type run struct {
	flow   *Flow
	params map[string]Value
	mu     sync.Mutex
	ran    map[string]Result
	ferr   string // the first flow error
}

func (r *run) Param(name string) Value { return r.params[name] }

func (r *run) Step(name string) (string, string, map[string]any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, ok := r.ran[name]
	return res.Status, res.Reason, res.Data, ok
}

// fail records an evaluation error as the flow's error, unless one came first.
func (r *run) fail(err error) {
	if r.ferr == "" {
		r.ferr = r.flow.File + ":" + err.Error()
	}
}

// phase runs the steps of one phase and records their reports.
func (r *run) phase(ctx context.Context, ph *Phase, ex Executor, concurrent bool) error {
	// Params are evaluated first, in step order, so the first evaluation
	// error is the same however the steps are scheduled.
	calls := make([][]Param, len(ph.Steps))
	ok := make([]bool, len(ph.Steps))
	for i, st := range ph.Steps {
		ps, err := r.args(st)
		if err != nil {
			r.fail(err)
			continue
		}
		calls[i], ok[i] = ps, true
	}
	results := make([]Result, len(ph.Steps))
	errs := make([]error, len(ph.Steps))
	do := func(i int) {
		st := ph.Steps[i]
		for attempt := 1; attempt <= 1+st.Retry; attempt++ {
			res, err := ex.Execute(ctx, Call{Phase: ph.Name, Step: st.Name, Job: st.Job, Attempt: attempt, Params: calls[i]})
			if err != nil {
				errs[i] = err
				return
			}
			if err := ctx.Err(); err != nil {
				errs[i] = err
				return
			}
			results[i] = res
			if res.Status == "SUCCESS" {
				return
			}
		}
	}
	if concurrent {
		var wg sync.WaitGroup
		for i := range ph.Steps {
			if ok[i] {
				wg.Add(1)
				go func() { defer wg.Done(); do(i) }()
			}
		}
		wg.Wait()
	} else {
		for i := range ph.Steps {
			if ok[i] {
				do(i)
				if errs[i] != nil {
					break
				}
			}
		}
	}
	for i, st := range ph.Steps {
		if errs[i] != nil {
			return errs[i]
		}
		if ok[i] {
			r.mu.Lock()
			r.ran[st.Name] = results[i]
			r.mu.Unlock()
		}
	}
	return nil
}

// args evaluates a step's params into the text the build receives.
func (r *run) args(st *Step) ([]Param, error) {
	var out []Param
	for _, a := range st.Params {
		v, err := a.Value.Eval(r)
		if err != nil {
			return nil, err
		}
		v = normalize(v)
		if v == nil {
			continue
		}
		if a.ParamType == jobs.Boolean {
			if _, isBool := v.(bool); !isBool {
				return nil, &EvalError{Pos: a.Value.Position(), Msg: fmt.Sprintf("step %s: param %s of job %s is a boolean, found %s", st.Name, a.Name, st.Job, jsonType(v).article())}
			}
		}
		out = append(out, Param{Name: a.Name, Value: ParamText(v)})
	}
	return out, nil
}

// report builds the flow's own report (R5).
func (r *run) report(job *jobs.Job) *Outcome {
	f := r.flow
	err := r.ferr
	note := func(e error) {
		if err == "" {
			err = f.File + ":" + e.Error()
		}
	}
	defStatus, defReason := f.DefaultOutcome(r)
	status, reason := defStatus, defReason
	rep := f.Report
	if rep == nil {
		rep = &Report{}
	}
	if err == "" && rep.Status != nil {
		v, e := rep.Status.Eval(r)
		switch s, isStr := normalize(v).(string); {
		case e != nil:
			note(e)
		case !isStr || s != "SUCCESS" && s != "FAILURE":
			note(&EvalError{Pos: rep.Status.Position(), Msg: "the report status must be SUCCESS or FAILURE, found " + describeValue(v)})
		default:
			status = s
		}
	}
	if err == "" {
		if rep.Reason != nil {
			v, e := rep.Reason.Eval(r)
			if e == nil {
				reason, e = Text(v)
				if e != nil {
					e = &EvalError{Pos: rep.Reason.Position(), Msg: e.Error()}
				}
			}
			if e != nil {
				note(e)
			}
		} else if status != defStatus {
			reason = ""
		}
	}
	data := map[string]any{}
	for _, a := range rep.Data {
		v, e := a.Value.Eval(r)
		if e != nil {
			note(e)
			data = map[string]any{}
			break
		}
		if v = normalize(v); v != nil {
			data[a.Name] = v
		}
	}
	if err != "" {
		status, reason = "FAILURE", err
	}
	return &Outcome{Status: status, Reason: reason, Data: data}
}

// describeValue is how a wrong report status is shown: "OK" quoted, or the
// kind of a value that is not text.
func describeValue(v Value) string {
	switch x := normalize(v).(type) {
	case nil, map[string]any, []any:
		return jsonType(x).article()
	default:
		s, _ := Text(x)
		return `"` + s + `"`
	}
}

// emptyRequired lists, in declaration order, the required params of job
// whose value is missing or empty.
func emptyRequired(job *jobs.Job, params map[string]Value) []string {
	var out []string
	for _, p := range job.Params {
		if !p.Required {
			continue
		}
		if v := params[p.Name]; v == nil || v == "" {
			out = append(out, p.Name)
		}
	}
	return out
}

func requiredReason(names []string) string {
	if len(names) == 1 {
		return "required param " + names[0] + " is empty"
	}
	return "required params " + strings.Join(names, ", ") + " are empty"
}
