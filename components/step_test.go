package components

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/jobctl/jobctl/flow"
	"github.com/jobctl/jobctl/jobs"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// These tests run generated step workers (run.sh) for real, as the worker
// wrapper runs them: with the workspace as the working directory, the
// body written to $WORKSPACE/.jobctl/body and JOBCTL_REPORT_DATA and
// JOBCTL_REPORT_REASON naming files there. They need bash, git and
// coreutils' timeout, and skip only when one of those is missing.

// sysTools are the commands generated scripts, git and the test commands
// need. The scripts run with PATH set to a folder of links to these (and a
// folder of fake tools first), so that a node or ruby installed on the
// machine never takes part.
var sysTools = []string{"bash", "sh", "env", "git", "timeout", "mkdir", "chmod", "touch", "cat", "rm", "ls", "sort", "tr", "sed", "grep", "head", "uname"}

// sandbox is where one test runs workers: a PATH of system tools, a fake
// bin folder put first, and an empty HOME.
type sandbox struct {
	t    *testing.T
	root string
	bin  string // fake tools; first on PATH
	sys  string // links to sysTools
	home string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	for _, tool := range []string{"bash", "git", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("running generated workers needs %s: %v", tool, err)
		}
	}
	root := t.TempDir()
	sb := &sandbox{t: t, root: root, bin: filepath.Join(root, "bin"), sys: filepath.Join(root, "sys"), home: filepath.Join(root, "home")}
	for _, d := range []string{sb.bin, sb.sys, sb.home} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tool := range sysTools {
		p, err := exec.LookPath(tool)
		if err != nil {
			continue
		}
		if err := os.Symlink(p, filepath.Join(sb.sys, tool)); err != nil {
			t.Fatal(err)
		}
	}
	return sb
}

// env is the environment workers and git run with; extra ("K=V") wins.
func (sb *sandbox) env(extra ...string) []string {
	return append([]string{
		"PATH=" + sb.bin + ":" + sb.sys,
		"HOME=" + sb.home,
		"LANG=C",
		"GIT_CONFIG_NOSYSTEM=1",
	}, extra...)
}

// file writes a file under the sandbox, making its folder; mode 0o755
// makes a program.
func (sb *sandbox) file(rel, content string, mode os.FileMode) string {
	sb.t.Helper()
	p := filepath.Join(sb.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		sb.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		sb.t.Fatal(err)
	}
	return p
}

// tool puts a fake tool on PATH that prints version for --version.
func (sb *sandbox) tool(name, version string) {
	sb.t.Helper()
	sb.file("bin/"+name, fakeTool(version), 0o755)
}

func fakeTool(version string) string {
	return "#!/bin/sh\necho '" + version + "'\n"
}

// repo is a local git repository a component's repository names.
type repo struct {
	sb  *sandbox
	dir string
}

func (sb *sandbox) repo() *repo {
	sb.t.Helper()
	r := &repo{sb: sb, dir: filepath.Join(sb.root, "origin")}
	r.git("init", "--quiet", "-b", "main", r.dir)
	return r
}

// git runs git in the repository and returns its trimmed output.
func (r *repo) git(args ...string) string {
	r.sb.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=t", "-c", "user.email=t@t"}, args...)...)
	if args[0] == "init" {
		cmd = exec.Command("git", args...)
	}
	cmd.Env = r.sb.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.sb.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (path → content; "" removes it), commits them all
// and returns the commit's hash.
func (r *repo) commit(files map[string]string) string {
	r.sb.t.Helper()
	for rel, content := range files {
		p := filepath.Join(r.dir, rel)
		if content == "" {
			if err := os.Remove(p); err != nil {
				r.sb.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.sb.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.sb.t.Fatal(err)
		}
	}
	r.git("add", "-A")
	r.git("commit", "--quiet", "--allow-empty", "-m", "change")
	return r.git("rev-parse", "HEAD")
}

// generate parses one component file and returns what Generate makes of
// it, by path.
func generate(t *testing.T, name, src string) map[string]string {
	t.Helper()
	var ps jobs.Problems
	c := Parse("components/"+name+".yaml", []byte(src), &ps)
	if got := problems(t, &ps); got != nil {
		t.Fatalf("parse problems:\n%s\nin:\n%s", strings.Join(got, "\n"), src)
	}
	return generateAll(t, []*Component{c})
}

func generateAll(t *testing.T, cs []*Component) map[string]string {
	t.Helper()
	var ps jobs.Problems
	Check(cs, &ps)
	if got := problems(t, &ps); got != nil {
		t.Fatalf("check problems:\n%s", strings.Join(got, "\n"))
	}
	files, err := Generate(cs, nil)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	out := map[string]string{}
	for _, f := range files {
		out[f.Path] = string(f.Data)
	}
	return out
}

// script returns the run.sh of a generated worker.
func script(t *testing.T, files map[string]string, job string) string {
	t.Helper()
	s, ok := files["jobs/"+job+"/run.sh"]
	if !ok {
		t.Fatalf("no jobs/%s/run.sh generated", job)
	}
	return s
}

// result is what one run of a worker left.
type result struct {
	code   int
	out    string // stdout and stderr
	data   string // $JOBCTL_REPORT_DATA; "" when not written
	reason string // $JOBCTL_REPORT_REASON, without its final newline
	ws     string // the workspace
}

// run runs body in workspace ws (made when it does not exist) as the
// worker wrapper would, with extra environment variables ("K=V").
func (sb *sandbox) run(body, ws string, extra ...string) result {
	sb.t.Helper()
	dir := filepath.Join(ws, ".jobctl")
	if err := os.RemoveAll(dir); err != nil {
		sb.t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		sb.t.Fatal(err)
	}
	bodyFile := filepath.Join(dir, "body")
	if err := os.WriteFile(bodyFile, []byte(body), 0o700); err != nil {
		sb.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Run through bash rather than exec'ing the file: a test running in
	// parallel may fork while the file is still open for writing here,
	// and exec would then fail with "text file busy".
	cmd := exec.CommandContext(ctx, "bash", bodyFile)
	cmd.Dir = ws
	cmd.Env = sb.env(append([]string{
		"WORKSPACE=" + ws,
		"JOBCTL_REPORT_DATA=" + filepath.Join(dir, "data.json"),
		"JOBCTL_REPORT_REASON=" + filepath.Join(dir, "reason"),
	}, extra...)...)
	out, err := cmd.CombinedOutput()
	r := result{out: string(out), ws: ws}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		sb.t.Fatalf("running the worker: %v\n%s", err, out)
	}
	if ctx.Err() != nil {
		sb.t.Fatalf("the worker did not finish in time:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "data.json")); err == nil {
		r.data = string(b)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "reason")); err == nil {
		r.reason = strings.TrimSuffix(string(b), "\n")
	}
	return r
}

// workspace returns a new, empty workspace.
func (sb *sandbox) workspace() string {
	sb.t.Helper()
	ws, err := os.MkdirTemp(sb.root, "ws")
	if err != nil {
		sb.t.Fatal(err)
	}
	return ws
}

// ok fails the test unless the run succeeded.
func (r result) ok(t *testing.T) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("exit status %d, reason %q; want success; output:\n%s", r.code, r.reason, r.out)
	}
}

// failed fails the test unless the run failed with exit status 1 and a
// reason holding want.
func (r result) failed(t *testing.T, want string) {
	t.Helper()
	if r.code != 1 {
		t.Fatalf("exit status %d, want 1; output:\n%s", r.code, r.out)
	}
	if !strings.Contains(r.reason, want) {
		t.Fatalf("reason %q does not hold %q; output:\n%s", r.reason, want, r.out)
	}
	if strings.Contains(r.reason, "\n") {
		t.Errorf("reason %q spans lines", r.reason)
	}
}

// logged fails the test unless the output holds want.
func (r result) logged(t *testing.T, want string) {
	t.Helper()
	if !strings.Contains(r.out, want) {
		t.Errorf("output does not hold %q:\n%s", want, r.out)
	}
}

// notCheckedOut fails the test unless nothing was checked out.
func (r result) notCheckedOut(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(r.ws, "src")); !os.IsNotExist(err) {
		t.Errorf("the worker checked out (%s/src exists: %v) before failing", r.ws, err)
	}
	if r.data != "" {
		t.Errorf("report data %q written by a run that failed before checking out", r.data)
	}
}

// read returns the contents of a file, or "<missing>".
func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return "<missing>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// writeFile writes a file, making its folder.
func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func hashData(h string) string { return `{"git_hash":"` + h + `"}` + "\n" }

// ---------------------------------------------------------------- checkout

func TestStepCheckout(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	r := sb.repo()
	c0 := r.commit(map[string]string{"README": "no app yet\n"})
	r.git("tag", "noapp")
	c1 := r.commit(map[string]string{"app/version.txt": "1\n"})
	r.git("tag", "v1")
	c2 := r.commit(map[string]string{"app/version.txt": "2\n"})
	r.git("tag", "-a", "-m", "two", "v2")
	c3 := r.commit(map[string]string{"app/version.txt": "3\n"})
	r.git("checkout", "--quiet", "-b", "feature")
	c4 := r.commit(map[string]string{"app/version.txt": "4\n"})
	r.git("checkout", "--quiet", "main")

	out := filepath.Join(sb.root, "out")
	files := generate(t, "app", fmt.Sprintf(`repository: %s
path: app
build:
  - printf '%%s\n' "$GIT_HASH" "$(pwd -P)" >"$OUT/where"
  - cp version.txt "$OUT/version" 2>/dev/null || cat version.txt >"$OUT/version"
  - echo built >built.txt
`, r.dir))
	body := script(t, files, "app-build")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		ref  string
		want string // the commit
		ver  string // app/version.txt there
	}{
		{"branch", "main", c3, "3"},
		{"other branch", "feature", c4, "4"},
		{"tag", "v1", c1, "1"},
		{"annotated tag", "v2", c2, "2"},
		{"full hash", c3, c3, "3"},
		{"older commit", c1, c1, "1"},
		{"short hash", c2[:10], c2, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.RemoveAll(out); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			res := sb.run(body, sb.workspace(), "GIT_REF="+tt.ref, "OUT="+out)
			res.ok(t)
			if diff := cmp.Diff(hashData(tt.want), res.data); diff != "" {
				t.Errorf("report data (-want +got):\n%s", diff)
			}
			app, err := filepath.EvalSymlinks(filepath.Join(res.ws, "src", "app"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want+"\n"+app+"\n", read(t, filepath.Join(out, "where"))); diff != "" {
				t.Errorf("GIT_HASH and working directory of the commands (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.ver+"\n", read(t, filepath.Join(out, "version"))); diff != "" {
				t.Errorf("app/version.txt checked out (-want +got):\n%s", diff)
			}
			res.logged(t, "checked out "+tt.want)
			res.logged(t, "app: build passed at "+tt.want)
		})
	}

	t.Run("again in the same workspace", func(t *testing.T) {
		ws := sb.workspace()
		sb.run(body, ws, "GIT_REF=main", "OUT="+out).ok(t)
		if !exists(filepath.Join(ws, "src", "app", "built.txt")) {
			t.Fatal("the first run left no built.txt")
		}
		junk := []string{
			filepath.Join(ws, "src", "junk.txt"),
			filepath.Join(ws, "src", "app", "junk", "deep.txt"),
		}
		for _, j := range junk {
			writeFile(t, j, "junk\n")
		}
		writeFile(t, filepath.Join(ws, "src", "app", "version.txt"), "edited\n")
		c5 := r.commit(map[string]string{"app/version.txt": "5\n"})

		// The first command sees the tree as committed: no build output
		// of the last run.
		res := sb.run(body, ws, "GIT_REF=main", "OUT="+out)
		res.ok(t)
		if diff := cmp.Diff(hashData(c5), res.data); diff != "" {
			t.Errorf("report data (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff("5\n", read(t, filepath.Join(out, "version"))); diff != "" {
			t.Errorf("app/version.txt checked out (-want +got):\n%s", diff)
		}
		for _, j := range junk {
			if exists(j) {
				t.Errorf("%s survived a new checkout", j)
			}
		}
	})

	t.Run("tag deleted in the repository", func(t *testing.T) {
		ws := sb.workspace()
		sb.run(body, ws, "GIT_REF=v1", "OUT="+out).ok(t)
		r.git("tag", "-d", "v1")
		defer r.git("tag", "v1", c1)
		sb.run(body, ws, "GIT_REF=v1", "OUT="+out).failed(t, "has no branch, tag or commit 'v1'")
	})

	t.Run("branch deleted in the repository", func(t *testing.T) {
		ws := sb.workspace()
		sb.run(body, ws, "GIT_REF=feature", "OUT="+out).ok(t)
		r.git("branch", "-D", "feature")
		defer r.git("branch", "feature", c4)
		// The commit is still in the workspace's clone, but the branch is gone.
		sb.run(body, ws, "GIT_REF=feature", "OUT="+out).failed(t, "has no branch, tag or commit 'feature'")
	})

	t.Run("HEAD follows the repository", func(t *testing.T) {
		ws := sb.workspace()
		res := sb.run(body, ws, "GIT_REF=HEAD", "OUT="+out)
		res.ok(t)
		if diff := cmp.Diff(hashData(r.git("rev-parse", "HEAD")), res.data); diff != "" {
			t.Errorf("first run: report data (-want +got):\n%s", diff)
		}
		head := r.commit(map[string]string{"app/version.txt": "6\n"})
		res = sb.run(body, ws, "GIT_REF=HEAD", "OUT="+out)
		res.ok(t)
		if diff := cmp.Diff(hashData(head), res.data); diff != "" {
			t.Errorf("second run: report data (-want +got), the HEAD of the workspace's last checkout instead of the repository's:\n%s", diff)
		}
	})

	t.Run("workspace with a src folder that is no clone", func(t *testing.T) {
		ws := sb.workspace()
		writeFile(t, filepath.Join(ws, "src", "app", "version.txt"), "stale\n")
		writeFile(t, filepath.Join(ws, "src", "left", "over.txt"), "stale\n")
		res := sb.run(body, ws, "GIT_REF=v1", "OUT="+out)
		res.ok(t)
		if diff := cmp.Diff("1\n", read(t, filepath.Join(out, "version"))); diff != "" {
			t.Errorf("app/version.txt checked out (-want +got):\n%s", diff)
		}
		if exists(filepath.Join(ws, "src", "left")) {
			t.Error("files that were in src before the first checkout survived it")
		}
	})

	t.Run("no such folder", func(t *testing.T) {
		res := sb.run(body, sb.workspace(), "GIT_REF=noapp", "OUT="+out)
		res.failed(t, r.dir+" has no folder app at "+c0)
	})

	evil := sb.file("evil", "#!/bin/sh\ntouch "+filepath.Join(sb.root, "pwned")+"\nexec git-upload-pack \"$@\"\n", 0o755)
	refused := []struct {
		name, ref, want string
	}{
		{"missing", "", "GIT_REF must name a branch, tag or commit of " + r.dir + ", found ''"},
		{"unknown", "nope", r.dir + " has no branch, tag or commit 'nope'"},
		{"unknown hash", strings.Repeat("e", 40), "has no branch, tag or commit '" + strings.Repeat("e", 40) + "'"},
		{"option", "-b", "GIT_REF must name a branch, tag or commit of " + r.dir + ", found '-b'"},
		{"option upload-pack", "--upload-pack=" + evil, "GIT_REF must name"},
		{"spaces", "main x", "found 'main x'"},
		{"tab", "main\tx", "GIT_REF must name"},
		{"newline", "main\nx", "GIT_REF must name"},
	}
	for _, tt := range refused {
		t.Run("refused/"+tt.name, func(t *testing.T) {
			res := sb.run(body, sb.workspace(), "GIT_REF="+tt.ref, "OUT="+out)
			res.failed(t, tt.want)
			if res.data != "" {
				t.Errorf("report data %q written for a ref that was not checked out", res.data)
			}
			if exists(filepath.Join(sb.root, "pwned")) {
				t.Errorf("GIT_REF %q ran a command", tt.ref)
			}
		})
	}
	t.Run("refused/unset", func(t *testing.T) {
		res := sb.run(body, sb.workspace(), "OUT="+out)
		res.failed(t, "GIT_REF must name a branch, tag or commit")
		res.notCheckedOut(t)
	})
}

// ---------------------------------------------------------------- commands

func TestStepCommands(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	r := sb.repo()
	r.commit(map[string]string{"README": "hi\n"})
	out := filepath.Join(sb.root, "out")

	t.Run("failing command", func(t *testing.T) {
		files := generate(t, "app", fmt.Sprintf(`repository: %s
build:
  - touch "$OUT.1"
  - (exit 7)
  - touch "$OUT.3"
`, r.dir))
		res := sb.run(script(t, files, "app-build"), sb.workspace(), "GIT_REF=main", "OUT="+out)
		res.failed(t, "build command 2 of 3 failed with exit status 7: (exit 7)")
		if !exists(out + ".1") {
			t.Error("command 1 did not run")
		}
		if exists(out + ".3") {
			t.Error("command 3 ran after command 2 failed")
		}
	})

	t.Run("errexit and pipefail", func(t *testing.T) {
		files := generate(t, "app", fmt.Sprintf(`repository: %s
test:
  - false | cat; touch "$OUT.a"
build:
  - false; touch "$OUT.b"
`, r.dir))
		sb.run(script(t, files, "app-build"), sb.workspace(), "GIT_REF=main", "OUT="+out).failed(t, "build command 1 of 1 failed with exit status 1")
		sb.run(script(t, files, "app-test"), sb.workspace(), "GIT_REF=main", "OUT="+out).failed(t, "test command 1 of 1 failed with exit status 1")
		for _, f := range []string{out + ".a", out + ".b"} {
			if exists(f) {
				t.Errorf("%s: a command went on after a failure", f)
			}
		}
	})

	// Each command writes what it computes to its own file; the files must
	// hold exactly want.
	odd := []struct {
		name, run, want string
	}{
		{"single quotes", `printf '%s' 'it'\''s' "it's" >"$OUT/q"`, "it'sit's"},
		{"double quotes", `printf '%s' "a \"b\" c" >"$OUT/dq"`, `a "b" c`},
		{"command substitution", `printf '%s' "$(echo sub)" >"$OUT/cs"`, "sub"},
		{"backticks", "printf '%s' `echo tick` >\"$OUT/bt\"", "tick"},
		{"newlines", "x=1\ny=2\nprintf '%s' \"$x$y\" >\"$OUT/nl\"", "12"},
		{"heredoc", "cat >\"$OUT/hd\" <<'EOF'\n$HOME `x` '\\n'\nEOF", "$HOME `x` '\\n'\n"},
		{"backslashes", `printf '%s' 'a\b\\c' >"$OUT/bs"`, `a\b\\c`},
		{"dollar braces and percent", `v=%s; printf '%s' "${v}%d" >"$OUT/pct"`, "%s%d"},
		{"shell variables of the script", `printf '%s' "${commands-unset}${step-unset}" >"$OUT/vars"`, "unsetunset"},
	}
	var src strings.Builder
	fmt.Fprintf(&src, "repository: %s\nbuild:\n", r.dir)
	for _, o := range odd {
		fmt.Fprintf(&src, "  - %s\n", QuoteYAML(o.run))
	}
	files := generate(t, "app", src.String())
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	res := sb.run(script(t, files, "app-build"), sb.workspace(), "GIT_REF=main", "OUT="+out)
	res.ok(t)
	for _, o := range odd {
		t.Run(o.name, func(t *testing.T) {
			f := o.run[strings.LastIndex(o.run, `"$OUT/`)+len(`"$OUT/`):]
			f = f[:strings.IndexByte(f, '"')]
			if diff := cmp.Diff(o.want, read(t, filepath.Join(out, f))); diff != "" {
				t.Errorf("command %q wrote (-want +got):\n%s", o.run, diff)
			}
			res.logged(t, "+ "+o.run)
		})
	}
}

// TestStepQuoting puts values that would break out of shell quoting into
// every place a component's text reaches the generated script, and checks
// they arrive byte for byte and run nothing.
func TestStepQuoting(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	r := sb.repo()
	r.commit(map[string]string{"README": "hi\n"})
	pwned := filepath.Join(sb.root, "pwned")
	evil := []string{
		`'; touch ` + pwned + `; '`,
		`$(touch ` + pwned + `)`,
		"`touch " + pwned + "`",
		`"; touch ` + pwned + `; "`,
		`a\b\\c\'d\`,
		"line one\nline two\n",
		"${HOME} $HOME %s %n \\n \t tab",
		`'`,
		`''`,
		"\\",
		"!! !$ ^x^y",
		"x\r\ny",
		"ünïcødé ✓",
	}
	var src strings.Builder
	fmt.Fprintf(&src, "repository: %s\nbuild: [\"true\"]\nstage:\n", r.dir)
	for i := range evil {
		fmt.Fprintf(&src, "  - printf '%%s' \"$V%d\" >\"$OUT/v%d\"\n", i, i)
	}
	fmt.Fprintf(&src, "environments:\n  qa:\n")
	for i, v := range evil {
		fmt.Fprintf(&src, "    V%d: %s\n", i, QuoteYAML(v))
	}
	files := generate(t, "app", src.String())
	out := filepath.Join(sb.root, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	res := sb.run(script(t, files, "app-stage"), sb.workspace(), "GIT_REF=main", "ENVIRONMENT=qa", "OUT="+out)
	res.ok(t)
	for i, v := range evil {
		if diff := cmp.Diff(v, read(t, filepath.Join(out, fmt.Sprintf("v%d", i)))); diff != "" {
			t.Errorf("environment variable V%d (-want +got):\n%s", i, diff)
		}
	}
	if exists(pwned) {
		t.Fatal("an environment variable's value ran a command")
	}

	// Commands, component and environment names and the repository reach
	// the script too; Parse allows little there, so these are built by
	// hand, as a broken check would let them through.
	for i, v := range evil {
		if strings.ContainsAny(v, "\r\n") {
			continue // see TestStepHeaderComments
		}
		t.Run(fmt.Sprintf("value %d", i), func(t *testing.T) {
			c := &Component{
				Name: "app" + v, File: "components/app.yaml", Repository: r.dir + v, Path: "p" + v,
				Branch: "main", ProductionRef: "production",
				Build:        []Command{{Run: "printf '%s' " + quote(v) + " >" + quote(filepath.Join(out, "cmd"))}},
				Stage:        []Command{{Run: "true"}},
				Environments: []Environment{{Name: "qa" + v}},
			}
			g := &generator{byName: map[string]*Component{}}
			build := gen(g.stepWorker(c, StepBuild))
			// A GIT_REF that is refused names the repository.
			sb.run(build, sb.workspace()).failed(t, "GIT_REF must name a branch, tag or commit of "+r.dir+v+", found ''")
			// An unknown environment names the component and its environments.
			stage := gen(g.stepWorker(c, StepStage))
			sb.run(stage, sb.workspace(), "GIT_REF=main", "ENVIRONMENT=x").failed(t, "app"+v+" has no environment 'x'; it has: qa"+v)
			if exists(pwned) {
				t.Fatal("a name or the repository ran a command")
			}
		})
	}
	t.Run("command", func(t *testing.T) {
		for i, v := range evil {
			c := &Component{Name: "app", File: "components/app.yaml", Repository: r.dir, Branch: "main",
				Build: []Command{{Run: "printf '%s' " + quote(v) + " >" + quote(filepath.Join(out, "cmd"))}}}
			g := &generator{byName: map[string]*Component{}}
			sb.run(gen(g.stepWorker(c, StepBuild)), sb.workspace(), "GIT_REF=main").ok(t)
			if diff := cmp.Diff(v, read(t, filepath.Join(out, "cmd"))); diff != "" {
				t.Errorf("value %d through a command (-want +got):\n%s", i, diff)
			}
		}
		if exists(pwned) {
			t.Fatal("a command's text ran a command")
		}
	})
}

// TestStepHeaderComments: the comment lines at the top of run.sh quote
// the component's file name, repository and path. A line break in any of
// them (Parse rejects them, but Generate should not depend on it for the
// safety of the script) must not end the comment and run the rest.
func TestStepHeaderComments(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	pwned := filepath.Join(sb.root, "pwned")
	for _, field := range []string{"file", "repository", "path"} {
		t.Run(field, func(t *testing.T) {
			c := &Component{Name: "app", File: "components/app.yaml", Repository: "/r", Branch: "main",
				Build: []Command{{Run: "true"}}}
			inject := "\ntouch " + pwned + "\n#"
			switch field {
			case "file":
				c.File += inject
			case "repository":
				c.Repository += inject
			case "path":
				c.Path += inject
			}
			g := &generator{byName: map[string]*Component{}}
			sb.run(gen(g.stepWorker(c, StepBuild)), sb.workspace())
			if exists(pwned) {
				os.Remove(pwned)
				t.Errorf("a line break in the component's %s ends a comment of run.sh and runs what follows", field)
			}
		})
	}
}

// gen returns the run.sh among a worker's files.
func gen(files []File) string {
	for _, f := range files {
		if f.Path == "run.sh" {
			return string(f.Data)
		}
	}
	return ""
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ---------------------------------------------------------------- environments

func TestStepEnvironments(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	r := sb.repo()
	r.commit(map[string]string{"README": "hi\n"})
	out := filepath.Join(sb.root, "out")
	const show = `printf '%s|%s|%s|%s' "${API_URL-unset}" "${REPLICAS-unset}" "${ONLY_QA-unset}" "${ENVIRONMENT-unset}" >"$OUT"`
	files := generate(t, "shop", fmt.Sprintf(`repository: %s
build: ["true"]
test: [%s]
stage: [%s]
environments:
  qa: {API_URL: https://qa.example.com, ONLY_QA: "yes"}
  production: {API_URL: https://example.com, REPLICAS: 3}
`, r.dir, QuoteYAML(show), QuoteYAML(show)))
	bare := generate(t, "bare", fmt.Sprintf("repository: %s\nbuild: [\"true\"]\ntest: [%s]\n", r.dir, QuoteYAML(show)))

	tests := []struct {
		name  string
		files map[string]string
		job   string
		env   []string
		want  string // what the command saw; "" when it must not run
		log   string
		fail  string // the reason, when the run fails
	}{
		{name: "stage qa", files: files, job: "shop-stage", env: []string{"ENVIRONMENT=qa"},
			want: "https://qa.example.com|unset|yes|qa", log: "environment qa"},
		{name: "stage production", files: files, job: "shop-stage", env: []string{"ENVIRONMENT=production"},
			want: "https://example.com|3|unset|production", log: "environment production"},
		{name: "stage unknown", files: files, job: "shop-stage", env: []string{"ENVIRONMENT=staging"},
			fail: "shop has no environment 'staging'; it has: qa, production"},
		{name: "stage empty", files: files, job: "shop-stage", env: []string{"ENVIRONMENT="},
			fail: "shop has no environment ''; it has: qa, production"},
		{name: "stage unset", files: files, job: "shop-stage",
			fail: "shop has no environment ''; it has: qa, production"},
		{name: "stage pattern", files: files, job: "shop-stage", env: []string{"ENVIRONMENT=*"},
			fail: "shop has no environment '*'"},
		{name: "stage newline", files: files, job: "shop-stage", env: []string{"ENVIRONMENT=qa\nproduction"},
			fail: "shop has no environment"},
		{name: "test without environment", files: files, job: "shop-test", env: []string{"ENVIRONMENT="},
			want: "unset|unset|unset|"},
		{name: "test unset environment", files: files, job: "shop-test",
			want: "unset|unset|unset|unset"},
		{name: "test qa", files: files, job: "shop-test", env: []string{"ENVIRONMENT=qa"},
			want: "https://qa.example.com|unset|yes|qa", log: "environment qa"},
		{name: "test unknown", files: files, job: "shop-test", env: []string{"ENVIRONMENT=staging"},
			want: "unset|unset|unset|staging", log: "shop has no environment 'staging' (it has: qa, production); running without its variables"},
		{name: "test of a component without environments", files: bare, job: "bare-test", env: []string{"ENVIRONMENT=qa"},
			want: "unset|unset|unset|qa", log: "bare has no environment 'qa' (it has: none); running without its variables"},
		{name: "build ignores ENVIRONMENT", files: files, job: "shop-build", env: []string{"ENVIRONMENT=qa"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(out)
			res := sb.run(script(t, tt.files, tt.job), sb.workspace(), append([]string{"GIT_REF=main", "OUT=" + out}, tt.env...)...)
			if tt.fail != "" {
				res.failed(t, tt.fail)
				res.notCheckedOut(t)
				return
			}
			res.ok(t)
			if tt.want != "" {
				if diff := cmp.Diff(tt.want, read(t, out)); diff != "" {
					t.Errorf("what the command saw (-want +got):\n%s", diff)
				}
			}
			if tt.log != "" {
				res.logged(t, tt.log)
			}
		})
	}
}

// TestStepEnvironmentNames: an environment's variables reach the commands
// whatever their names, even names the generated script uses itself.
func TestStepEnvironmentNames(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	r := sb.repo()
	r.commit(map[string]string{"app/README": "hi\n"})
	names := []string{"commands", "component", "step", "repository", "folder", "tools", "environments", "environment_mode", "i", "list", "ref", "problems", "cmp"}
	var src strings.Builder
	fmt.Fprintf(&src, "repository: %s\npath: app\nbuild: [\"true\"]\nstage:\n  - %s\nenvironments:\n  qa:\n", r.dir, QuoteYAML(`env >"$OUT"`))
	for _, n := range names {
		fmt.Fprintf(&src, "    %s: %s\n", n, QuoteYAML("value of "+n))
	}
	files := generate(t, "app", src.String())
	out := filepath.Join(sb.root, "out")
	res := sb.run(script(t, files, "app-stage"), sb.workspace(), "GIT_REF=main", "ENVIRONMENT=qa", "OUT="+out)
	res.ok(t)
	got := map[string]string{}
	for _, l := range strings.Split(read(t, out), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			got[k] = v
		}
	}
	for _, n := range names {
		if got[n] != "value of "+n {
			t.Errorf("the commands see %s=%q, want %q", n, got[n], "value of "+n)
		}
	}
}

// ---------------------------------------------------------------- tools

// nvmScript is a fake nvm.sh: like the real one it only defines the nvm
// function (and uses unset variables, so it must be sourced with set +u),
// switches to the default version unless sourced with --no-use, and
// prints to stdout.
const nvmScript = `# fake nvm.sh
if [ -n "$NVM_SOURCE_TEST_UNSET" ]; then :; fi
nvm() {
	if [ -n "$NVM_FAKE_UNSET_INSIDE" ]; then :; fi
	echo "nvm $*" >>"$NVM_DIR/calls"
	case $1 in
	use)
		shift
		[ "$1" = --silent ] && shift
		local d="$NVM_DIR/versions/node/v${1#v}"
		if [ ! -x "$d/bin/node" ]; then
			echo "N/A: version \"v${1#v}\" is not yet installed." >&2
			return 3
		fi
		PATH="$d/bin:$PATH"
		;;
	install)
		local v=${2#v}
		echo "Downloading and installing node v$v..."
		mkdir -p "$NVM_DIR/versions/node/v$v/bin"
		printf '#!/bin/sh\necho v%s\n' "$v" >"$NVM_DIR/versions/node/v$v/bin/node"
		chmod +x "$NVM_DIR/versions/node/v$v/bin/node"
		echo "Now using node v$v"
		PATH="$NVM_DIR/versions/node/v$v/bin:$PATH"
		;;
	*)
		echo "nvm: unknown command $1" >&2
		return 127
		;;
	esac
}
if [ "$1" != --no-use ]; then
	echo "nvm sourced without --no-use" >>"$NVM_DIR/calls"
	nvm use --silent 10.1.0 >/dev/null 2>&1
fi
`

// rvmScript is a fake $rvm_path/scripts/rvm.
const rvmScript = `# fake rvm
if [ -n "$rvm_fake_unset" ]; then :; fi
rvm() {
	if [ -n "$rvm_fake_unset_inside" ]; then :; fi
	echo "rvm $*" >>"$rvm_path/calls"
	case $1 in
	list)
		[ "$2" = strings ] || return 1
		for d in $(ls "$rvm_path/rubies" | sort -V); do echo "$d"; done
		;;
	use)
		if [ ! -x "$rvm_path/rubies/$2/bin/ruby" ]; then
			echo "Required $2 is not installed." >&2
			return 1
		fi
		PATH="$rvm_path/rubies/$2/bin:$PATH"
		echo "Using $rvm_path/gems/$2"
		;;
	install)
		mkdir -p "$rvm_path/rubies/$2/bin"
		printf '#!/bin/sh\necho "ruby %s (2019-04-16 revision 67580) [x86_64-linux]"\n' "${2#ruby-}p1" >"$rvm_path/rubies/$2/bin/ruby"
		chmod +x "$rvm_path/rubies/$2/bin/ruby"
		echo "Install of $2 - #complete"
		;;
	*) return 1 ;;
	esac
}
`

// nvm installs the fake nvm with node versions and returns NVM_DIR.
func (sb *sandbox) nvm(versions ...string) string {
	sb.t.Helper()
	sb.file("nvm/nvm.sh", nvmScript, 0o644)
	for _, v := range versions {
		sb.file("nvm/versions/node/v"+v+"/bin/node", fakeTool("v"+v), 0o755)
	}
	return filepath.Join(sb.root, "nvm")
}

// rvm installs the fake rvm with ruby versions and returns rvm_path.
func (sb *sandbox) rvm(versions ...string) string {
	sb.t.Helper()
	sb.file("rvm/scripts/rvm", rvmScript, 0o644)
	for _, v := range versions {
		sb.file("rvm/rubies/ruby-"+v+"/bin/ruby", fakeTool("ruby "+v+"p62 (2019-04-16 revision 67580) [x86_64-linux]"), 0o755)
	}
	return filepath.Join(sb.root, "rvm")
}

func TestStepTools(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/local/rvm/scripts/rvm"); err == nil {
		t.Skip("an rvm in /usr/local/rvm would take part in the runs")
	}
	tests := []struct {
		name  string
		tools string // the tools mapping, as YAML
		setup func(sb *sandbox) []string
		want  string // "node --version" in the commands
		log   []string
		fail  string
		calls string // what nvm and rvm were asked to do, when not ""
	}{
		{
			name:  "passing constraint",
			tools: `{node: ">= 8, < 9"}`,
			setup: func(sb *sandbox) []string { sb.tool("node", "v8.12.0"); return nil },
			want:  "v8.12.0",
			log:   []string{"found node 8.12.0 (>= 8, < 9)"},
		},
		{
			name:  "exact version",
			tools: `{node: 8.12.0}`,
			setup: func(sb *sandbox) []string { sb.tool("node", "v8.12.0"); return nil },
			want:  "v8.12.0",
			log:   []string{"found node 8.12.0 (8.12.0)"},
		},
		{
			name:  "ruby patch level",
			tools: `{ruby: "~> 2.6.0"}`,
			setup: func(sb *sandbox) []string {
				sb.tool("ruby", "ruby 2.6.3p62 (2019-04-16 revision 67580) [x86_64-linux]")
				return nil
			},
			log: []string{"found ruby 2.6.3 (~> 2.6.0)"},
		},
		{
			name:  "numeric, not lexical, comparison",
			tools: `{node: ">= 8.9"}`,
			setup: func(sb *sandbox) []string { sb.tool("node", "v8.10.0"); return nil },
			log:   []string{"found node 8.10.0 (>= 8.9)"},
		},
		{
			name:  "failing constraint",
			tools: `{node: ">= 10"}`,
			setup: func(sb *sandbox) []string { sb.tool("node", "v8.12.0"); return nil },
			fail:  "needs node >= 10, found 8.12.0 (install it on the agent, or nvm to pick versions)",
		},
		{
			name:  "missing tool",
			tools: `{node: ">= 10"}`,
			fail:  "needs node >= 10, found no node on PATH (install it on the agent, or nvm to pick versions)",
		},
		{
			name:  "missing other tool",
			tools: `{python3: ">= 3.8"}`,
			fail:  "needs python3 >= 3.8, found no python3 on PATH",
		},
		{
			name:  "tool that prints no version",
			tools: `{make: ">= 4"}`,
			setup: func(sb *sandbox) []string { sb.tool("make", "usage: make [target]"); return nil },
			// The message must not claim make is missing.
			fail: "needs make >= 4, found make",
		},
		{
			name:  "several failing tools",
			tools: `{node: ">= 10", ruby: "~> 2.6", make: ">= 4"}`,
			setup: func(sb *sandbox) []string { sb.tool("node", "v8.12.0"); sb.tool("make", "GNU Make 4.3"); return nil },
			fail: "needs node >= 10, found 8.12.0 (install it on the agent, or nvm to pick versions); " +
				"needs ruby ~> 2.6, found no ruby on PATH (install it on the agent, or rvm to pick versions)",
		},
		{
			name:  "nvm picks the newest fitting version",
			tools: `{node: "~> 8.11"}`,
			setup: func(sb *sandbox) []string {
				sb.tool("node", "v6.0.0")
				return []string{"NVM_DIR=" + sb.nvm("8.11.0", "8.12.0", "10.1.0")}
			},
			want:  "v8.12.0",
			log:   []string{"using node 8.12.0 from nvm (~> 8.11)"},
			calls: "nvm use --silent 8.12.0\n",
		},
		{
			name:  "nvm in HOME",
			tools: `{node: "~> 10"}`,
			setup: func(sb *sandbox) []string {
				nvm := sb.nvm("8.12.0", "10.1.0")
				if err := os.Rename(nvm, filepath.Join(sb.home, ".nvm")); err != nil {
					sb.t.Fatal(err)
				}
				return nil
			},
			want: "v10.1.0",
			log:  []string{"using node 10.1.0 from nvm (~> 10)"},
		},
		{
			name:  "nvm installs an exact version",
			tools: `{node: 9.0.0}`,
			setup: func(sb *sandbox) []string { return []string{"NVM_DIR=" + sb.nvm("8.11.0", "8.12.0", "10.1.0")} },
			want:  "v9.0.0",
			log:   []string{"installing node 9.0.0 with nvm", "using node 9.0.0 from nvm (9.0.0)"},
			calls: "nvm install 9.0.0\n",
		},
		{
			name:  "nvm has no fitting version",
			tools: `{node: ">= 20"}`,
			setup: func(sb *sandbox) []string { return []string{"NVM_DIR=" + sb.nvm("8.11.0", "8.12.0", "10.1.0")} },
			fail:  "needs node >= 20, found no node on PATH (nvm has 8.11.0 8.12.0 10.1.0)",
		},
		{
			name:  "nvm with no versions",
			tools: `{node: ">= 20"}`,
			setup: func(sb *sandbox) []string { return []string{"NVM_DIR=" + sb.nvm()} },
			fail:  "needs node >= 20, found no node on PATH (nvm has no version installed)",
		},
		{
			name:  "rvm picks the newest fitting version",
			tools: `{ruby: "~> 2.6.0"}`,
			setup: func(sb *sandbox) []string {
				return []string{"rvm_path=" + sb.rvm("2.5.1", "2.6.3", "2.6.10", "2.7.0")}
			},
			log:   []string{"using ruby 2.6.10 from rvm (~> 2.6.0)"},
			calls: "rvm list strings\nrvm use ruby-2.6.10\n",
		},
		{
			name:  "rvm installs an exact version",
			tools: `{ruby: 2.6.0}`,
			setup: func(sb *sandbox) []string { return []string{"rvm_path=" + sb.rvm("2.5.1", "2.7.0")} },
			log:   []string{"installing ruby 2.6.0 with rvm", "using ruby 2.6.0 from rvm (2.6.0)"},
			calls: "rvm list strings\nrvm install ruby-2.6.0\nrvm use ruby-2.6.0\n",
		},
		{
			name:  "rvm has no fitting version",
			tools: `{ruby: ">= 3.1"}`,
			setup: func(sb *sandbox) []string {
				sb.tool("ruby", "ruby 2.6.3p62 (2019-04-16 revision 67580) [x86_64-linux]")
				return []string{"rvm_path=" + sb.rvm("2.5.1", "2.6.3", "2.7.0")}
			},
			fail: "needs ruby >= 3.1, found 2.6.3 (rvm has 2.5.1 2.6.3 2.7.0)",
		},
		{
			name:  "nvm and rvm together",
			tools: `{node: "~> 8.11", ruby: "~> 2.6"}`,
			setup: func(sb *sandbox) []string {
				return []string{"NVM_DIR=" + sb.nvm("8.11.0", "10.1.0"), "rvm_path=" + sb.rvm("2.6.3")}
			},
			want: "v8.11.0",
			log:  []string{"using node 8.11.0 from nvm (~> 8.11)", "using ruby 2.6.3 from rvm (~> 2.6)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sb := newSandbox(t)
			r := sb.repo()
			r.commit(map[string]string{"README": "hi\n"})
			var env []string
			if tt.setup != nil {
				env = tt.setup(sb)
			}
			out := filepath.Join(sb.root, "out")
			files := generate(t, "app", fmt.Sprintf("repository: %s\ntools: %s\nbuild:\n  - %s\n", r.dir, tt.tools,
				QuoteYAML(`if command -v node >/dev/null; then node --version >"$OUT"; fi`)))
			res := sb.run(script(t, files, "app-build"), sb.workspace(), append(env, "GIT_REF=main", "OUT="+out)...)
			if tt.fail != "" {
				res.failed(t, tt.fail)
				res.notCheckedOut(t)
			} else {
				res.ok(t)
			}
			for _, l := range tt.log {
				res.logged(t, l)
			}
			if tt.want != "" {
				if diff := cmp.Diff(tt.want+"\n", read(t, out)); diff != "" {
					t.Errorf("node --version in the commands (-want +got):\n%s", diff)
				}
			}
			var calls string
			for _, f := range []string{filepath.Join(sb.root, "nvm", "calls"), filepath.Join(sb.home, ".nvm", "calls"), filepath.Join(sb.root, "rvm", "calls")} {
				if exists(f) {
					calls += read(t, f)
				}
			}
			if strings.Contains(calls, "without --no-use") {
				t.Errorf("nvm.sh was sourced without --no-use")
			}
			if tt.calls != "" {
				if diff := cmp.Diff(tt.calls, calls); diff != "" {
					t.Errorf("calls of the version managers (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// ---------------------------------------------------------------- generated files

// shopFiles generates the jobs of testdata/shop.
func shopFiles(t *testing.T) []File {
	t.Helper()
	cs, err := Load("testdata/shop")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Generate(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestGenerateGolden compares what testdata/shop generates with
// testdata/shop/generated; go test -update rewrites it.
func TestGenerateGolden(t *testing.T) {
	files := shopFiles(t)
	dir := filepath.Join("testdata", "shop", "generated")
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		want[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("%v (run go test -update to write the golden files)", err)
	}
	got := map[string]string{}
	for _, f := range files {
		got[f.Path] = string(f.Data)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("generated files (-%s +generated); go test -update rewrites them:\n%s", dir, diff)
	}
	// Generating is deterministic.
	if diff := cmp.Diff(files, shopFiles(t)); diff != "" {
		t.Errorf("a second Generate differs (-first +second):\n%s", diff)
	}
}

// TestGenerateParses parses every generated job.yaml as a job and every
// flow.yaml as the flow of its orchestration, calling the generated jobs.
func TestGenerateParses(t *testing.T) {
	files := shopFiles(t)
	if got := parseGenerated(files); got != nil {
		t.Errorf("problems in the generated jobs:\n%s", strings.Join(got, "\n"))
	}
	// Every generated bash script is valid bash.
	if _, err := exec.LookPath("bash"); err == nil {
		for _, f := range files {
			if path.Base(f.Path) != "run.sh" {
				continue
			}
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = strings.NewReader(string(f.Data))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("bash -n %s: %v\n%s", f.Path, err, out)
			}
		}
	}
}

// parseGenerated parses generated files as jobctl would and returns the
// problems as file:line:col: message.
func parseGenerated(files []File) []string {
	var ps jobs.Problems
	byName := map[string]*jobs.Job{}
	var names []string
	bodies := map[string]bool{}
	for _, f := range files {
		bodies[f.Path] = true
	}
	for _, f := range files {
		if path.Base(f.Path) != "job.yaml" {
			continue
		}
		name := path.Base(path.Dir(f.Path))
		j := jobs.ParseJob(f.Path, name, f.Data, jobs.Defaults{}, &ps)
		if j == nil {
			continue
		}
		byName[name] = j
		names = append(names, name)
		body := j.Script
		if j.Kind == jobs.Orchestration {
			body = path.Join(path.Dir(f.Path), "flow.yaml")
		}
		if !bodies[body] {
			ps.Add(f.Path, 0, 0, "its body %s was not generated", body)
		}
	}
	sort.Strings(names)
	callee := func(name string) (flow.Callee, bool) {
		j, ok := byName[name]
		if !ok {
			return flow.Callee{}, false
		}
		return flow.Callee{Name: j.Name, Kind: j.Kind, Params: j.Params, Outputs: j.Outputs}, true
	}
	for _, f := range files {
		if path.Base(f.Path) != "flow.yaml" {
			continue
		}
		var doc yaml.Node
		if err := yaml.Unmarshal(f.Data, &doc); err != nil {
			ps.Add(f.Path, 0, 0, "%v", err)
			continue
		}
		flow.Parse(f.Path, &doc, byName[path.Base(path.Dir(f.Path))], callee, names, &ps)
	}
	err := ps.Err()
	if err == nil {
		return nil
	}
	var ie *jobs.InputError
	if !errors.As(err, &ie) {
		return []string{err.Error()}
	}
	var out []string
	for _, p := range ie.Problems {
		out = append(out, p.Error())
	}
	return out
}

// TestGenerateLongNames: every name Parse and Check accept must give
// generated jobs whose names are valid job names, or Generate must say
// which name is too long.
func TestGenerateLongNames(t *testing.T) {
	long := strings.Repeat("a", jobs.MaxNameLength)
	tests := []struct{ name, file, src string }{
		{"component", long, "repository: /r\nbuild: make\nstage: make\nrelease: make\nenvironments: {qa: {}}\n"},
		{"environment", "app", "repository: /r\nbuild: make\nstage: make\nrelease: make\nenvironments: {" + long + ": {}}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ps jobs.Problems
			c := Parse("components/"+tt.file+".yaml", []byte(tt.src), &ps)
			if c == nil {
				return // rejected: fine
			}
			Check([]*Component{c}, &ps)
			if ps.Len() > 0 {
				return
			}
			files, err := Generate([]*Component{c}, nil)
			if err != nil {
				return // rejected: fine
			}
			if got := parseGenerated(files); got != nil {
				t.Errorf("Generate accepted a %s name of %d characters, but the jobs it generates do not parse:\n%s", tt.name, jobs.MaxNameLength, strings.Join(got, "\n"))
			}
		})
	}
}

// FuzzGenerate feeds arbitrary component files to Parse, Check and
// Generate: what parses and checks must generate without panicking, and
// what is generated must parse as jobs and flows.
func FuzzGenerate(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/shop/components/*.yaml")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(strings.TrimSuffix(filepath.Base(s), ".yaml"), b)
		}
	}
	f.Add("c", []byte("repository: /r\nbuild: make\ntools: {node: '~> 1', x: '!= 2'}\n"))
	f.Add("qa", []byte("repository: /r\nbuild: make\nstage: x\nenvironments: {qa: {}}\n"))
	f.Add("c", []byte("repository: /r\npath: a/b\nbranch: dev\nproduction_ref: prod\ntimeout: none\nbuild: make\ntest: t\nrelease: r\nenvironments: {x-y: {A: '1'}}\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		var ps jobs.Problems
		c := Parse("components/"+name+".yaml", data, &ps)
		if c == nil {
			return
		}
		cs := []*Component{c}
		Check(cs, &ps)
		if ps.Len() > 0 {
			return
		}
		files, err := Generate(cs, nil)
		if err != nil {
			var ie *jobs.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Generate: not an input error: %v", err)
			}
			return
		}
		if got := parseGenerated(files); got != nil {
			t.Fatalf("generated jobs do not parse:\n%s\nfrom:\n%s", strings.Join(got, "\n"), data)
		}
		for _, f := range files {
			if path.Base(f.Path) == "run.sh" && !strings.HasPrefix(string(f.Data), "#!/usr/bin/env bash\n") {
				t.Fatalf("%s has no bash shebang", f.Path)
			}
		}
	})
}
