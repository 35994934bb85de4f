// Package mocks runs orchestration test cases offline: it reads the case
// files under mocks/<orchestration>/<case>.yaml, runs the orchestration
// against mocked jobs (a flow in the flow interpreter; raw Groovy, and
// with Runner.Groovy a flow's generated Groovy too, under groovy with the
// mocked step library of package harness), checks the expectations,
// compares the call trace with the golden file next to the case, and
// writes JUnit XML.
//
// # Case files
//
//	description: A printable cube is quoted and registered.
//	params:                       # the orchestration's params, as a caller passes them
//	  SOURCE_S3_FILE_PATH: s3://uploads/cube.stl
//	  RUSH: true
//	mocks:                        # what the jobs it calls return, by common name
//	  fetch_model:                # a mapping: every call returns it
//	    data: {name: cube.stl, size_bytes: 684}
//	  inspect_model:              # a list: successive calls (retries)
//	    - {status: FAILURE, reason: "agent lost"}
//	    - data: {triangles: 12}
//	  render_thumbnail:
//	    status: FAILURE           # SUCCESS (default), FAILURE, UNSTABLE, ABORTED, NOT_BUILT
//	    reason: renderer crashed
//	    report: false             # the build left no report.json (default true)
//	sh:                           # raw Groovy only: sh steps, first match wins
//	  - command: date -u +%F      # the exact script, or
//	    stdout: "2026-11-23\n"
//	  - regex: '^aws s3 ls '      # a Java regex found in the script
//	    status: 1
//	expect:
//	  status: SUCCESS             # required: SUCCESS, FAILURE, UNSTABLE or ABORTED
//	  reason: ""                  # the report's reason, exactly; or
//	  reason_contains: "mesh"     # a part of it
//	  data: {price: 5.5}          # these report data fields, with these values
//	  calls:                      # exactly these calls, in this order ([] for none)
//	    - fetch_model             # a job, or
//	    - job: inspect_model      # a job with the phase (flow phase or
//	      phase: inspect          # Groovy stage) and params it must get
//	      params: {MODEL_URL: s3://uploads/cube.stl}
//	  not_called: [register_part]
//
// Unknown keys, unknown jobs and params, a mocked job the orchestration
// never calls, and mocked SUCCESS data that does not match the job's
// declared outputs are errors at file:line:col. A call with no mock, or
// more calls than a list mocks, fails the case and names the call.
//
// Params are resolved as Jenkins resolves them: a param not given takes
// its default, else false for a boolean and "" for the others. Params
// reach a job as text; expectations compare that text.
//
// # Traces
//
// Each run's trace, the calls (phase, job, params, result), the sh steps
// of raw Groovy and the outcome (status, reason, data), is kept in
// <case>.trace.yaml next to the case. Calls of concurrent steps are listed
// in step order. A run whose trace differs from the file fails with a
// line diff; Runner.Update (jobctl test --update) writes the file instead.
// A case without a trace file fails until its trace is recorded.
package mocks
