package templates

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWrapperReasonFile: a body that fails may say why in
// $JOBCTL_REPORT_REASON; the report's reason is then the first line of that
// file, trimmed and bounded, instead of "exit status N: <last line>".
func TestWrapperReasonFile(t *testing.T) {
	tests := []struct {
		name string
		// body runs after the shebang line; $R is "$JOBCTL_REPORT_REASON".
		body    string
		retries int
		timeout time.Duration
		want    want
		// usedLog says whether the log must tell the default reason was
		// replaced.
		usedLog bool
	}{
		{
			name: "used on failure",
			body: `echo 'the mesh has 3 open edges' > "$R"; echo 'last output'; exit 2`,
			want: want{status: "FAILURE", reason: `^the mesh has 3 open edges$`, attempts: 1, exit: 2}, usedLog: true,
		},
		{
			name: "ignored on success",
			body: `echo 'not a failure' > "$R"; echo done`,
			want: want{status: "SUCCESS", reason: `^$`, attempts: 1},
		},
		{
			name: "absent",
			body: `echo 'last output'; exit 1`,
			want: want{status: "FAILURE", reason: `^exit status 1: last output$`, attempts: 1, exit: 1},
		},
		{
			name: "empty",
			body: `: > "$R"; echo 'last output'; exit 1`,
			want: want{status: "FAILURE", reason: `^exit status 1: last output$`, attempts: 1, exit: 1},
		},
		{
			name: "blank first line",
			body: `printf ' \t\nsecond line\n' > "$R"; echo 'last output'; exit 1`,
			want: want{status: "FAILURE", reason: `^exit status 1: last output$`, attempts: 1, exit: 1},
		},
		{
			name: "multi-line: first line, trimmed",
			body: `printf '  \tfirst line  \r\nsecond line\nthird\n' > "$R"; exit 1`,
			want: want{status: "FAILURE", reason: `^first line$`, attempts: 1, exit: 1}, usedLog: true,
		},
		{
			name: "no final newline",
			body: `printf 'no newline' > "$R"; exit 1`,
			want: want{status: "FAILURE", reason: `^no newline$`, attempts: 1, exit: 1}, usedLog: true,
		},
		{
			name: "long line bounded",
			body: `printf '%0700d\n' 0 > "$R"; exit 1`,
			want: want{status: "FAILURE", reason: `^0{500}\.\.\.$`, attempts: 1, exit: 1}, usedLog: true,
		},
		{
			name: "text, not code",
			body: "printf '%s\\n' '$(touch pwned) `touch pwned` \"q\" '\\''s'\\'' \\' > \"$R\"; exit 1",
			want: want{status: "FAILURE", reason: `^\$\(touch pwned\) ` + "`touch pwned`" + ` "q" 's' \\$`, attempts: 1, exit: 1}, usedLog: true,
		},
		{
			name: "not a regular file",
			body: `mkdir "$R"; echo 'last output'; exit 1`,
			want: want{status: "FAILURE", reason: `^exit status 1: last output$`, attempts: 1, exit: 1},
		},
		{
			// The file is removed before every attempt: the first
			// attempt's reason does not explain the second's failure.
			name:    "cleared between attempts",
			body:    `if [ "$JOBCTL_ATTEMPT" = 1 ]; then echo 'first attempt' > "$R"; else test ! -e "$R" && echo 'cleared'; fi; exit 1`,
			retries: 1,
			want:    want{status: "FAILURE", reason: `^exit status 1: cleared$`, attempts: 2, exit: 1},
		},
		{
			name:    "last attempt's reason",
			body:    `echo "attempt $JOBCTL_ATTEMPT failed" > "$R"; exit 1`,
			retries: 1,
			want:    want{status: "FAILURE", reason: `^attempt 2 failed$`, attempts: 2, exit: 1}, usedLog: true,
		},
		{
			name:    "ignored on timeout",
			body:    `echo 'my reason' > "$R"; sleep 30`,
			timeout: 500 * time.Millisecond,
			want:    want{status: "FAILURE", reason: `^timed out after 500ms$`, attempts: 1, exit: 124},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := worker("#!/bin/bash\nR=$JOBCTL_REPORT_REASON\n" + tt.body + "\n")
			w.Retries, w.Timeout = tt.retries, tt.timeout
			res := runWrapper(t, run{script: mustRender(t, w), env: []string{"JOBCTL_RETRY_BACKOFF=0.01"}})
			tt.want.check(t, res)
			used := strings.Contains(res.report.Log, "jobctl: the body failed (exit status "+strconv.Itoa(tt.want.exit)+"): reporting the reason it wrote to $JOBCTL_REPORT_REASON\n")
			if used != tt.usedLog {
				t.Errorf("log says the reason file was used: %t, want %t:\n%s", used, tt.usedLog, res.report.Log)
			}
			if _, err := os.Stat(filepath.Join(res.ws, "pwned")); err == nil {
				t.Errorf("the reason was executed")
			}
		})
	}
}

// TestWrapperReasonMissingParam: a reason file cannot hide a failure that is
// not the body's.
func TestWrapperReasonMissingParam(t *testing.T) {
	t.Parallel()
	w := worker("#!/bin/bash\necho 'never' > \"$JOBCTL_REPORT_REASON\"\nexit 1\n")
	w.Required = []string{"MODEL_URL"}
	res := runWrapper(t, run{script: mustRender(t, w)})
	want{status: "FAILURE", reason: `^missing required param\(s\): MODEL_URL$`, attempts: 0, exit: 1}.check(t, res)
}
