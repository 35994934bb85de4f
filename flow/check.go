package flow

import (
	"sort"
	"strings"

	"github.com/jobctl/jobctl/jobs"
)

// check types e, records every problem in it, sets the types of its
// references and returns its type (Any after an error, to avoid cascades).
func (d *decoder) check(e Expr, sc scope) Type {
	switch x := e.(type) {
	case nil:
		return Any
	case *Lit:
		return x.Type()
	case *ParamRef:
		x.T = Any
		p, ok := d.self.Param(x.Name)
		if !ok {
			var names []string
			for _, p := range d.self.Params {
				names = append(names, p.Name)
			}
			d.addAt(x.NamePos, "%s: unknown param %q: job %s declares no such param%s", sc.what, x.Name, d.self.Name, jobs.DidYouMean(x.Name, names))
			return Any
		}
		x.T = paramType(p.Type)
		return x.T
	case *StepRef:
		x.T = d.checkStepRef(x, sc)
		return x.T
	case *Unary:
		if t := d.check(x.X, sc); t != Boolean && t != Any {
			d.addAt(x.X.Position(), "%s: ! needs a boolean, found %s", sc.what, t.article())
		}
		return Boolean
	case *Binary:
		tx, ty := d.check(x.X, sc), d.check(x.Y, sc)
		switch x.Op {
		case "&&", "||":
			if tx != Boolean && tx != Any {
				d.addAt(x.X.Position(), "%s: %s needs booleans, found %s", sc.what, x.Op, tx.article())
			}
			if ty != Boolean && ty != Any {
				d.addAt(x.Y.Position(), "%s: %s needs booleans, found %s", sc.what, x.Op, ty.article())
			}
		case "==", "!=":
			if !comparable(tx, ty) {
				d.addAt(x.OpPos, "%s: cannot compare %s with %s", sc.what, tx.article(), ty.article())
			}
			d.checkStatusLiteral(x.X, x.Y, sc)
			d.checkStatusLiteral(x.Y, x.X, sc)
		default:
			if !orderable(tx, ty) {
				d.addAt(x.OpPos, "%s: %s needs two numbers or two strings, found %s and %s", sc.what, x.Op, tx.article(), ty.article())
			}
		}
		return Boolean
	case *Template:
		for _, p := range x.Parts {
			if p.Expr == nil {
				continue
			}
			if t := d.check(p.Expr, sc); !t.scalar() {
				d.addAt(p.Expr.Position(), "%s: cannot interpolate %s into a string; read one of its fields", sc.what, t.article())
			}
		}
		return String
	case *Map:
		for _, f := range x.Fields {
			d.check(f.Value, sc)
		}
		return Object
	case *List:
		for _, it := range x.Items {
			d.check(it, sc)
		}
		return Array
	}
	return Any
}

func comparable(x, y Type) bool {
	switch {
	case x == Any || y == Any || x == Null || y == Null:
		return true
	case x.numeric() && y.numeric():
		return true
	}
	return x == y && x.scalar()
}

func orderable(x, y Type) bool {
	ok := func(t Type) bool { return t == Any || t == String || t.numeric() }
	if !ok(x) || !ok(y) {
		return false
	}
	return x == Any || y == Any || x == y || x.numeric() && y.numeric()
}

// checkStatusLiteral reports a comparison of a step's status with a string
// no step ever reports.
func (d *decoder) checkStatusLiteral(ref, other Expr, sc scope) {
	r, ok := ref.(*StepRef)
	if !ok || r.Field != "status" {
		return
	}
	lit, ok := other.(*Lit)
	if !ok {
		return
	}
	s, ok := lit.Val.(string)
	if !ok || contains(Statuses, s) {
		return
	}
	d.addAt(lit.Pos, "%s: a step's status is never %q; it is one of SUCCESS, FAILURE, UNSTABLE, ABORTED, SKIPPED%s", sc.what, s, jobs.DidYouMean(s, Statuses))
}

func (d *decoder) checkStepRef(x *StepRef, sc scope) Type {
	info, ok := d.steps[x.Step]
	if !ok {
		var names []string
		for n := range d.steps {
			names = append(names, n)
		}
		hint := jobs.DidYouMean(x.Step, sortedCopy(names))
		if _, isPhase := d.phases[x.Step]; isPhase {
			hint = "; " + x.Step + " is a phase: read one of its steps"
		}
		d.addAt(x.Pos, "%s: unknown step %q%s", sc.what, x.Step, hint)
		return Any
	}
	if info.phase >= sc.phase {
		ph := display(d.flow.Phases[info.phase].Name)
		if info.phase == sc.phase {
			d.addAt(x.Pos, "%s reads step %s, which runs in the same phase (%s); only steps of earlier phases can be read", sc.what, x.Step, ph)
		} else {
			d.addAt(x.Pos, "%s reads step %s, which runs in a later phase (%s); only steps of earlier phases can be read", sc.what, x.Step, ph)
		}
		return Any
	}
	if x.Field != "data" {
		return String
	}
	if !info.known {
		return Any
	}
	fields := info.callee.Outputs
	var cur *jobs.Field
	t := Object
	for i, name := range x.Path {
		switch {
		case t == Any:
			return Any
		case t == Object && cur != nil && len(cur.Fields) == 0:
			// An object whose fields are not declared.
			return Any
		case t == Object:
			f, ok := fieldOf(fields, name)
			if !ok {
				var names []string
				for _, f := range fields {
					names = append(names, f.Name)
				}
				if cur == nil {
					d.addAt(x.PathPos[i], "%s: job %s declares no output %q%s", sc.what, info.step.Job, name, jobs.DidYouMean(name, names))
				} else {
					d.addAt(x.PathPos[i], "%s: output %s of job %s has no field %q%s", sc.what, joinPath(x.Path[:i]), info.step.Job, name, jobs.DidYouMean(name, names))
				}
				return Any
			}
			cur = &f
			fields = f.Fields
			t = Type(f.Type)
			if t == "" {
				t = Any
			}
		default:
			d.addAt(x.PathPos[i], "%s: %s.data.%s is %s; it has no field %q", sc.what, x.Step, joinPath(x.Path[:i]), t.article(), name)
			return Any
		}
	}
	return t
}

func joinPath(p []string) string { return strings.Join(p, ".") }

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
