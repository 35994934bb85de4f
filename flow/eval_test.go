package flow

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type fakeReport struct {
	status, reason string
	data           map[string]any
}

type fakeEnv struct {
	params map[string]Value
	steps  map[string]fakeReport
}

func (e fakeEnv) Param(name string) Value { return e.params[name] }

func (e fakeEnv) Step(name string) (string, string, map[string]any, bool) {
	r, ok := e.steps[name]
	return r.status, r.reason, r.data, ok
}

func jsonData(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestEval(t *testing.T) {
	env := fakeEnv{
		params: map[string]Value{"S": "s3://b/k", "RUSH": true, "NO": false, "N": 3},
		steps: map[string]fakeReport{
			"fetch": {status: "SUCCESS", data: jsonData(t, `{"path": "/tmp/m.stl", "size": 1024, "ratio": 2.5,
				"bbox": {"size": [1, 2, 3]}, "nested": {"a": {"b": "deep"}}, "ok": true, "nothing": null}`)},
			"bad": {status: "FAILURE", reason: "it's broken"},
		},
	}
	for _, tc := range []struct {
		src     string
		tpl     bool
		want    Value
		wantErr string
	}{
		{src: "params.S", want: "s3://b/k"},
		{src: "params.RUSH", want: true},
		{src: "params.N", want: 3.0},
		{src: "params.MISSING", want: nil},
		{src: "fetch.status == 'SUCCESS'", want: true},
		{src: "bad.status != 'SUCCESS' && bad.reason == 'it\\'s broken'", want: true},
		{src: "fetch.data.size > 1000", want: true},
		{src: "fetch.data.size <= 1023.5", want: false},
		{src: "fetch.data.ratio == 2.5", want: true},
		{src: "fetch.data.size >= -1", want: true},
		{src: "fetch.data.path < 'u'", want: true},
		{src: "fetch.data.nested.a.b == 'deep'", want: true},
		{src: "fetch.data.nested.a", want: map[string]any{"b": "deep"}},
		{src: "fetch.data.missing.x", want: nil},
		{src: "fetch.data.path.x", want: nil},
		{src: "fetch.data.nothing == null", want: true},
		{src: "fetch.data.ok && !params.NO", want: true},
		{src: "fetch.data.bbox == fetch.data.bbox", want: true},
		{src: "1 == '1'", want: false},
		{src: "null != false", want: true},
		// A step that did not run: SKIPPED, empty reason, null data.
		{src: "skipped.status", want: "SKIPPED"},
		{src: "skipped.reason", want: ""},
		{src: "skipped.data", want: nil},
		{src: "skipped.data.x.y == null", want: true},
		// null counts as false in boolean operators.
		{src: "skipped.data.ok || !skipped.data.ok", want: true},
		{src: "skipped.data.ok && 1 < 'x'", want: false}, // short-circuit: the right side never runs
		{src: "params.RUSH || 1 < 'x'", want: true},
		{src: "fetch.data.size < 'x'", wantErr: "1:17: cannot order a number and a string"},
		{src: "skipped.data.n > 1", want: false},
		{src: "skipped.data.n <= 1", want: false},
		{src: "null >= null", want: false},
		{src: "!fetch.data.path", wantErr: "1:2: want a boolean, found a string"},
		{src: "fetch.data.ok && fetch.data.size", wantErr: "1:18: want a boolean, found a number"},
		{tpl: true, src: "${fetch.data.path} ${fetch.data.size} ${fetch.data.ratio} ${params.RUSH} [${skipped.data.x}] $${x}", want: "/tmp/m.stl 1024 2.5 true [] ${x}"},
		{tpl: true, src: "${1e21} ${0.1} ${-0}", want: "1e+21 0.1 0"},
		{tpl: true, src: "size=${fetch.data.bbox.size}", wantErr: "1:8: cannot interpolate an array into a string"},
		{tpl: true, src: "${fetch.data.bbox}", wantErr: "1:3: cannot interpolate an object into a string"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			var e Expr
			var err error
			if tc.tpl {
				e, err = ParseTemplate(tc.src)
			} else {
				e, err = ParseExpr(tc.src)
			}
			if err != nil {
				t.Fatalf("parse %q: %v", tc.src, err)
			}
			got, err := e.Eval(env)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("Eval(%q) = %v, %v; want error %q", tc.src, got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Eval(%q): %v", tc.src, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Eval(%q) (-want +got):\n%s", tc.src, diff)
			}
		})
	}
}

// A checked flow evaluates its when, step params and report.
func TestEvalFlow(t *testing.T) {
	f, ps := parseDoc(t, "jobs/process_upload/flow.yaml", fullFlow)
	if ps != nil {
		t.Fatalf("problems: %v", ps)
	}
	env := fakeEnv{
		params: map[string]Value{"SOURCE_S3_FILE_PATH": "s3://in/m.stl", "RUSH": true, "DRY_RUN": false, "MATERIAL": "pla"},
		steps: map[string]fakeReport{
			"fetch":   {status: "SUCCESS", data: jsonData(t, `{"path": "/w/m.stl", "size": 10, "meta": {"volume": {"value": 12.5}}}`)},
			"inspect": {status: "FAILURE", reason: "not closed"},
			"price":   {status: "SUCCESS", data: jsonData(t, `{"price": 9.9, "currency": "EUR"}`)},
		},
	}
	eval := func(e Expr) Value {
		t.Helper()
		v, err := e.Eval(env)
		if err != nil {
			t.Fatalf("Eval: %v", err)
		}
		return v
	}
	got := map[string]Value{}
	for _, p := range f.Phases {
		if p.When != nil {
			got[p.Name+".when"] = eval(p.When)
		}
		for _, s := range p.Steps {
			for _, a := range s.Params {
				got[s.Name+"."+a.Name] = eval(a.Value)
			}
		}
	}
	got["report.status"] = eval(f.Report.Status)
	got["report.reason"] = eval(f.Report.Reason)
	for _, a := range f.Report.Data {
		got["report.data."+a.Name] = eval(a.Value)
	}
	want := map[string]Value{
		"fetch.SOURCE":           "s3://in/m.stl",
		"fetch.RUSH":             true,
		"fetch.MATERIAL":         "pla",
		"check.when":             true,
		"inspect.MODEL_URL":      "file:///w/m.stl?size=10",
		"price.VOLUME":           12.5,
		"price.RUSH":             true,
		"late.when":              true,
		"reprice.VOLUME":         "",
		"reprice.RUSH":           false,
		"report.status":          "SUCCESS",
		"report.reason":          "priced in EUR, ${literal}",
		"report.data.price":      9.9,
		"report.data.volume_mm3": nil,
		"report.data.fits":       false,
		"report.data.note":       "text 10",
		"report.data.bbox":       nil,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}

func TestDefaultOutcome(t *testing.T) {
	f, ps := parseDoc(t, "jobs/process_upload/flow.yaml", fullFlow)
	if ps != nil {
		t.Fatalf("problems: %v", ps)
	}
	for _, tc := range []struct {
		name                   string
		steps                  map[string]fakeReport
		wantStatus, wantReason string
	}{
		{name: "all ran", steps: map[string]fakeReport{"fetch": {status: "SUCCESS"}, "price": {status: "SUCCESS"}}, wantStatus: "SUCCESS"},
		{name: "allowed failure", steps: map[string]fakeReport{"fetch": {status: "SUCCESS"}, "inspect": {status: "FAILURE"}}, wantStatus: "SUCCESS"},
		{name: "failure", steps: map[string]fakeReport{"fetch": {status: "SUCCESS"}, "price": {status: "FAILURE", reason: "no price"}, "reprice": {status: "ABORTED"}},
			wantStatus: "FAILURE", wantReason: "step price (price_model) failed: no price"},
		{name: "unstable", steps: map[string]fakeReport{"fetch": {status: "UNSTABLE"}},
			wantStatus: "FAILURE", wantReason: "step fetch (fetch_model) failed: it ended UNSTABLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, reason := f.DefaultOutcome(fakeEnv{steps: tc.steps})
			if status != tc.wantStatus || reason != tc.wantReason {
				t.Errorf("DefaultOutcome = %q, %q; want %q, %q", status, reason, tc.wantStatus, tc.wantReason)
			}
		})
	}
}

func TestFormatNumber(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0"}, {3, "3"}, {-2.5, "-2.5"}, {1234567, "1234567"}, {1e20, "100000000000000000000"},
		{1e21, "1e+21"}, {1.5e22, "1.5e+22"}, {0.000001, "0.000001"}, {1.5e-7, "1.5e-7"},
		{0.30000000000000004, "0.30000000000000004"}, {123.456, "123.456"}, {-1e-300, "-1e-300"},
	} {
		if got := FormatNumber(tc.in); got != tc.want {
			t.Errorf("FormatNumber(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestJSON(t *testing.T) {
	v := map[string]any{"b": []any{1, 2.5, nil, true}, "a": "q\"\\\n\x01\u2028é<&>", "c": map[string]any{}, "d": json.Number("1e3")}
	want := `{"a":"q\"\\\n\u0001\u2028é<&>","b":[1,2.5,null,true],"c":{},"d":1000}`
	if got := JSON(v); got != want {
		t.Errorf("JSON = %s\nwant   %s", got, want)
	}
	if got := JSON("\xff"); got != "\"\ufffd\"" {
		t.Errorf("invalid UTF-8: %q", got)
	}
	if got := ParamText(map[string]any{"x": 1}); got != `{"x":1}` {
		t.Errorf("ParamText(object) = %s", got)
	}
	if got := ParamText(true); got != "true" {
		t.Errorf("ParamText(true) = %s", got)
	}
}
