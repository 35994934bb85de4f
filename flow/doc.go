// Package flow is the flow language of orchestration jobs: a flow is a list
// of phases that run in order; the steps of a phase run concurrently, each
// calling one job with params built from typed expressions. Parse decodes
// a flow, checks every expression against the orchestration's params and
// the called jobs' declared params and outputs, and returns the plan
// (Flow: phases of steps, and the report); Run interprets it over an
// Executor that runs the jobs.
//
// # Format
//
// A flow lives in jobs/<name>/flow.yaml, or inline under flow: in job.yaml:
//
//	phases:
//	  - name: fetch                 # unique, [a-z][a-z0-9_]*
//	    steps:
//	      - job: fetch_model        # the callee's common name
//	        name: fetch             # the step's id; default: the job's name
//	        params:
//	          SOURCE: "${params.SOURCE_S3_FILE_PATH}"
//	          RUSH: ${params.RUSH}  # exactly one unquoted ${expr}: keeps its type
//	        allow_failure: false    # default false
//	        retry: 2                # extra attempts when the call fails; default 0
//	  - name: check
//	    when: fetch.status == 'SUCCESS' && !params.DRY_RUN
//	    steps:
//	      - job: inspect_model
//	        params: {MODEL_URL: "${fetch.data.path}"}
//	report:
//	  status: "${inspect_model.status}"   # default: see below
//	  reason: "inspected ${fetch.data.path}"
//	  data:
//	    volume_mm3: ${inspect_model.data.volume_mm3}
//
// Keys: a flow has phases (required, not empty) and report; a phase has
// name (required), when and steps (required, not empty); a step has job
// (required), name, params, allow_failure and retry (0 to jobs.MaxRetries);
// a report has status, reason and data. Unknown keys are errors. Step names
// are unique across the flow, follow the phase-name rule and cannot be
// params, true, false or null; a job whose name has a '-' needs a name:.
//
// # Values
//
// A param value, a report field and a data entry is a YAML value:
//   - true/false, numbers and null are literals of their type;
//   - a plain (unquoted) scalar that is exactly one ${expr} is that
//     expression, with its type (RUSH: ${params.RUSH} is a boolean);
//   - any other string is text with ${expr} interpolations, of type string
//     ("${x}" quoted is a string); $${ writes a literal ${;
//   - a mapping is an object and a sequence an array, whose entries are
//     values in turn (at most 32 levels deep).
//
// A job's params are text. A string, choice or password param given a
// number gets its text (see FormatNumber), given a boolean "true" or
// "false", given an object or array its canonical JSON (see JSON): that is
// how an orchestration hands a worker a structured document, escaped
// correctly whatever the data holds.
//
// when: is a bare expression (no ${ }), or exactly one ${expr}; it must be
// a boolean.
//
// # Expressions
//
//	literals     'text' (escapes \' and \\ only), 12, 2.5, -1, 1e3, true, false, null
//	params.NAME  a param of the orchestration: string, choice and password
//	             params are strings, boolean params booleans
//	s.status     the status step s reported (a string: SUCCESS, FAILURE,
//	             UNSTABLE, ABORTED, or SKIPPED when it did not run)
//	s.reason     the reason step s reported (a string)
//	s.data.a.b   a field of step s's data, typed from its job's outputs;
//	             s.data alone is the whole object
//	== !=        operands of the same type (numbers and integers mix), or
//	             either side null or of type any
//	< <= > >=    two numbers or two strings
//	! && ||      booleans; && and || short-circuit
//	( )          grouping
//
// Precedence, loosest first: ||, &&, comparisons (which do not chain), !.
// Expressions are at most 8192 bytes and 64 levels deep.
//
// # Checks
//
// Every problem is reported with file:line:col, all at once. Positions
// inside an expression point at the offending token: the scalar's column,
// plus one for an opening quote, plus the characters before the token as
// written (an escaped quote counts two). In a block scalar (| or >), and
// in flow scalars that span lines, the column is approximate: block
// scalars point at the scalar itself.
//
// The checker reports: unknown jobs (with a did-you-mean over all job
// names); a flow calling its own job; unknown params of the orchestration;
// unknown steps, and steps of the same phase or a later phase (a step can
// read only steps of earlier phases; the report can read every step); data
// paths the callee's outputs do not declare (an object without declared
// fields and a field of type any can be read at any depth, as type any);
// type mismatches in operators; interpolating an object or an array; a
// status compared with a string no step reports; params the callee does
// not declare (with did-you-mean), required params not passed, a boolean
// param given anything but a boolean, a choice param given an object or
// array or a literal not in its choices, null given to a required param; a report status that is not a
// string, or a literal other than SUCCESS and FAILURE; report data not
// declared in the orchestration's outputs, of the wrong type (an integer
// fits a number output, not the other way round), or missing a required
// output.
//
// # Semantics
//
// Run interprets a flow; the Groovy jobctl generates from it behaves the
// same, and jobctl test --groovy checks that on every case.
//
// Params arrive as Jenkins passes them: a param not given takes its
// default, else false (boolean) or "". A required param that is empty
// fails the flow before anything runs, with the reason "required param X
// is empty" (or "required params X, Y are empty") and empty report data.
//
// Phases run in order; all steps of a phase are started together and the
// phase ends when all of them have ended. A phase whose when is false or
// null is skipped: its steps do not run and read as status SKIPPED,
// reason "" and null data (every data path reads null). A step first
// evaluates its params, then calls its job up to 1+retry times, stopping
// at the first SUCCESS; its report is its last attempt's. A step fails
// when that report's status is not SUCCESS. A failed step that is not
// allowed to fail fails the flow: the rest of its phase still ends, later
// phases are skipped (their steps read as SKIPPED too) and the report is
// still built, so it can say what went wrong. A job that leaves no report
// reads as its build's result, with the reason "<job> ended <result>
// without a report".
//
// An expression that cannot be evaluated at run time (a data field of
// type any that holds a string where a boolean is needed, say) is an
// error of the flow: the step or phase it belongs to does not run, later
// phases are skipped, and the report is FAILURE with the reason
// "<file>:<line>:<col>: <message>".
//
// The report's status and reason, when the flow does not write them, are
// Flow.DefaultOutcome: FAILURE naming the first failed step that was not
// allowed to fail ("step fit (check_printability) failed: <its reason>"),
// else SUCCESS and "". An explicit status must evaluate to SUCCESS or
// FAILURE. A reason left out is the default reason when the status is the
// default status, else "". Data entries whose value is null are left out.
// An evaluation error in the report makes it FAILURE with that error as
// the reason, and empties the data when the error is in the data.
//
// Null: null equals only null; in !, && and || (and so in when) null
// counts as false; an ordering (< <= > >=) with a null side is false;
// interpolating null writes nothing; a param whose value is null is not
// passed, so the callee's default applies.
//
// Numbers are float64 at run time, as in JSON; integer is a static type
// only (an integer literal or an output declared integer). Numbers are
// written as FormatNumber does, like JavaScript: 3, 2.5, 1234567, 1e+21.
//
// Not in the language: arithmetic, array indexing, function calls, string
// concatenation outside interpolation.
package flow
