// Package harness tests raw Jenkins pipeline scripts offline: it runs them
// under the groovy command (Groovy 2.4, as Jenkins embeds) against a mocked
// Jenkins step library, and reports what each run did — the downstream builds
// it called, the shell commands it ran, its log, its archived report and how
// it ended.
//
// The mocks are data (Case): what each downstream build returns, what each sh
// command prints. Anything a script does that the mocks do not cover — a
// build with no mocked result, a step the library does not have — is a fault
// of the case (Result.Fault), kept apart from the script's own failures
// (Result.Error).
//
// Every case of one RunGroovy call runs in one JVM, so batch them: starting
// the JVM costs about a second, a case a few milliseconds.
package harness

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

//go:embed harness.groovy
var harnessScript []byte

// Case is one run of a pipeline script with mocks.
type Case struct {
	ID string `json:"id"`
	// ScriptName is the class the script compiles as, and the file name of
	// its stack-trace elements; Jenkins uses "WorkflowScript", as does an
	// empty ScriptName.
	ScriptName string `json:"scriptName"`
	// Script is the Groovy text.
	Script string `json:"script"`
	// Params are the build's parameters, as Jenkins passes them: strings,
	// and booleans for boolean parameters.
	Params map[string]any `json:"params"`
	// Env is the initial environment (JOB_NAME, BUILD_NUMBER, ...);
	// WORKSPACE is /workspace unless it sets it.
	Env map[string]string `json:"env"`
	// Folder is the Jenkins folder the jobs live in, e.g. "modelshop".
	Folder string `json:"folder"`
	// Jobs maps deployed names to common names, e.g.
	// "fetch_model-v1-8710a65b4acf": "fetch_model".
	Jobs map[string]string `json:"jobs"`
	// Builds says, by common name, what builds of that job return.
	Builds map[string]Builds `json:"builds"`
	// Sh are the sh mocks, tried in order.
	Sh []Sh `json:"sh"`
}

// Builds mocks the builds of one job.
type Builds struct {
	// Every: Results has one entry, returned by every call. Otherwise
	// successive calls consume successive entries.
	Every   bool          `json:"every"`
	Results []BuildResult `json:"results"`
}

// BuildResult is how one mocked build ends.
type BuildResult struct {
	// Status is SUCCESS, FAILURE, UNSTABLE, ABORTED or NOT_BUILT.
	Status string `json:"status"`
	Reason string `json:"reason"`
	// Data is a JSON object (map[string]any) or nil.
	Data any `json:"data"`
	// Report says whether the build left a report.json artifact:
	// {process, status, reason, data, log, duration_ms, attempts}.
	Report bool `json:"report"`
}

// Sh mocks a shell step: Command matches the whole script text exactly;
// otherwise Regex, a java.util.regex pattern, is found anywhere in it.
type Sh struct {
	Command string `json:"command,omitempty"`
	Regex   string `json:"regex,omitempty"`
	Stdout  string `json:"stdout"`
	Status  int    `json:"status"`
}

// Result is what happened in one case.
type Result struct {
	ID string `json:"id"`
	// Result is the build result: SUCCESS, UNSTABLE, FAILURE or ABORTED.
	Result string `json:"result"`
	// Error is the message of the exception that ended the script, "" if
	// none; ErrorLine the script line it came from (0 unknown).
	Error     string `json:"error"`
	ErrorLine int    `json:"errorLine"`
	// Fault is a failure of the case (an unmocked call, an unknown step,
	// a script that does not compile, ...), "" if none; FaultLine its script
	// line (0 unknown). A fault makes Result FAILURE.
	Fault     string `json:"fault"`
	FaultLine int    `json:"faultLine"`
	// Report is the archived report.json, parsed; nil if none was archived.
	Report  map[string]any `json:"report"`
	Calls   []Call         `json:"calls"`
	ShCalls []ShCall       `json:"sh"`
	// Log holds the lines of echo, println and unstable output.
	Log []string `json:"log"`
}

// Call is one build step.
type Call struct {
	// Job is the COMMON name of the job called.
	Job string `json:"job"`
	// Phase is the name of the innermost enclosing stage, "" outside any.
	Phase string `json:"phase"`
	// Params are the parameters passed, as text ("true"/"false" for
	// booleans).
	Params    map[string]string `json:"params"`
	Wait      bool              `json:"wait"`
	Propagate bool              `json:"propagate"`
	// Result is the status the mock returned.
	Result string `json:"result"`
	// Line is the script line of the build call.
	Line int `json:"line"`
}

// ShCall is one sh step.
type ShCall struct {
	Command string `json:"command"`
	Status  int    `json:"status"`
	Line    int    `json:"line"`
}

// ErrNoGroovy says that the groovy command is not on PATH.
var ErrNoGroovy = errors.New("groovy is not on PATH: raw Groovy orchestrations are tested under groovy; " +
	"install it with `apt-get install -y default-jre-headless groovy`")

// stderrLines is how much of groovy's output an error quotes.
const stderrLines = 20

// RunGroovy runs every case in one groovy process and returns one Result per
// case, in order. The environment variable JOBCTL_GROOVY may name another
// groovy command. A failure of a case (even one whose script does not
// compile) is in its Result; an error is a failure of the whole run.
func RunGroovy(ctx context.Context, cases []Case) ([]Result, error) {
	if len(cases) == 0 {
		return nil, nil
	}
	if err := validate(cases); err != nil {
		return nil, err
	}
	groovy, err := command()
	if err != nil {
		return nil, err
	}
	in, err := json.Marshal(struct {
		Cases []Case `json:"cases"`
	}{cases})
	if err != nil {
		return nil, fmt.Errorf("encoding cases: %w", err)
	}
	dir, err := os.MkdirTemp("", "jobctl-groovy-")
	if err != nil {
		return nil, fmt.Errorf("running groovy: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "harness.groovy"), harnessScript, 0o644); err != nil {
		return nil, fmt.Errorf("running groovy: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "in.json"), in, 0o644); err != nil {
		return nil, fmt.Errorf("running groovy: %w", err)
	}

	var output bytes.Buffer
	cmd := exec.CommandContext(ctx, groovy, "harness.groovy", "in.json", "out.json")
	cmd.Dir = dir
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("running groovy: %w", ctx.Err())
		}
		return nil, fmt.Errorf("running groovy: %w\n%s", err, tail(output.String(), stderrLines))
	}
	data, err := os.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		return nil, fmt.Errorf("running groovy: no results: %w\n%s", err, tail(output.String(), stderrLines))
	}
	var out struct {
		Results []Result `json:"results"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("running groovy: reading results: %w", err)
	}
	if len(out.Results) != len(cases) {
		return nil, fmt.Errorf("running groovy: %d results for %d cases\n%s",
			len(out.Results), len(cases), tail(output.String(), stderrLines))
	}
	return out.Results, nil
}

// command returns the groovy command to run: $JOBCTL_GROOVY, else groovy.
func command() (string, error) {
	name := os.Getenv("JOBCTL_GROOVY")
	if name == "" {
		name = "groovy"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if name != "groovy" {
			return "", fmt.Errorf("JOBCTL_GROOVY=%s: %w", name, err)
		}
		return "", ErrNoGroovy
	}
	return path, nil
}

var (
	identifier = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)
	statuses   = []string{"SUCCESS", "UNSTABLE", "FAILURE", "ABORTED", "NOT_BUILT"}
)

// validate reports every mistake in the cases' mocks at once.
func validate(cases []Case) error {
	var errs []error
	for i, c := range cases {
		where := fmt.Sprintf("case %d (%s)", i+1, c.ID)
		if c.ScriptName != "" && !identifier.MatchString(c.ScriptName) {
			errs = append(errs, fmt.Errorf("%s: scriptName %q is not a class name", where, c.ScriptName))
		}
		for _, job := range slices.Sorted(maps.Keys(c.Builds)) {
			b := c.Builds[job]
			if b.Every && len(b.Results) != 1 {
				errs = append(errs, fmt.Errorf("%s: builds of %s: every needs exactly one result, not %d",
					where, job, len(b.Results)))
			}
			for _, r := range b.Results {
				if !slices.Contains(statuses, r.Status) {
					errs = append(errs, fmt.Errorf("%s: builds of %s: status %q is not one of %s",
						where, job, r.Status, strings.Join(statuses, ", ")))
				}
			}
		}
		for j, sh := range c.Sh {
			if (sh.Command == "") == (sh.Regex == "") {
				errs = append(errs, fmt.Errorf("%s: sh mock %d: give command or regex, not both or neither", where, j+1))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid cases: %w", err)
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
