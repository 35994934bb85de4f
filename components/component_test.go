package components

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/jobctl/jobctl/jobs"
)

// problems renders every recorded problem as file:line:col: message.
func problems(t *testing.T, ps *jobs.Problems) []string {
	t.Helper()
	err := ps.Err()
	if err == nil {
		return nil
	}
	var ie *jobs.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("not an input error: %v", err)
	}
	var out []string
	for _, p := range ie.Problems {
		out = append(out, p.Error())
	}
	return out
}

func TestLoadExample(t *testing.T) {
	cs, err := Load("testdata/shop")
	if err != nil {
		t.Fatal(err)
	}
	want := []*Component{
		{
			Name: "platform_api", File: "components/platform_api.yaml", Repository: "/srv/git/platform.git", Branch: "main", ProductionRef: "production", Poll: "H/5 * * * *",
			Build:        []Command{{Run: "make", Line: 2, Col: 8}},
			Environments: []Environment{{Name: "qa", Line: 4, Col: 3}, {Name: "production", Line: 5, Col: 3}},
			Line:         1, Col: 1,
		},
		{
			Name: "teams_api", File: "components/teams_api.yaml", Repository: "git@git.example.com:shop/teams.git", Branch: "main", ProductionRef: "production", Poll: "H/5 * * * *",
			Tools:        []Tool{{Name: "node", Constraint: ">= 8, < 9", Checks: []jobs.VersionCheck{{Op: ">=", Version: "8"}, {Op: "<", Version: "9"}}, Line: 2, Col: 9}},
			Build:        []Command{{Run: "make", Line: 3, Col: 9}},
			Environments: []Environment{{Name: "qa", Line: 5, Col: 16}, {Name: "production", Line: 5, Col: 24}},
			DependsOn:    []Ref{{Name: "platform_api", Line: 6, Col: 13}},
			Line:         1, Col: 1,
		},
		{
			Name: "web", File: "components/web.yaml", Description: "The web frontend.",
			Repository: "https://git.example.com/shop/web.git", Path: "web", Branch: "main", ProductionRef: "production", Poll: "H/5 * * * *",
			Tools: []Tool{
				{Name: "node", Constraint: "8.12.0", Checks: []jobs.VersionCheck{{Op: "=", Version: "8.12.0"}}, Line: 5, Col: 3},
				{Name: "ruby", Constraint: "~> 2.6", Checks: []jobs.VersionCheck{{Op: ">=", Version: "2.6"}, {Op: "<", Version: "3"}}, Line: 6, Col: 3},
			},
			Build:   []Command{{Run: "npm ci", Line: 7, Col: 9}, {Run: "npm run build", Line: 7, Col: 17}},
			Test:    []Command{{Run: "npm test", Line: 8, Col: 8}},
			Stage:   []Command{{Run: "./deploy.sh $ENVIRONMENT", Line: 9, Col: 9}},
			Release: []Command{{Run: "./release.sh $ENVIRONMENT", Line: 10, Col: 11}},
			Environments: []Environment{
				{Name: "qa", Vars: []Var{{Name: "API_URL", Value: "https://qa.example.com", Line: 12, Col: 8}}, Line: 12, Col: 3},
				{Name: "production", Vars: []Var{
					{Name: "API_URL", Value: "https://example.com", Line: 13, Col: 16},
					{Name: "REPLICAS", Value: "3", Line: 13, Col: 46},
					{Name: "DEBUG", Value: "false", Line: 13, Col: 59},
				}, Line: 13, Col: 3},
			},
			DependsOn: []Ref{{Name: "platform_api", Line: 14, Col: 14}, {Name: "teams_api", Line: 14, Col: 28}},
			Line:      1, Col: 1,
		},
	}
	if diff := cmp.Diff(want, cs); diff != "" {
		t.Errorf("Load (-want +got):\n%s", diff)
	}
	var names [][]string
	for _, level := range Order(cs) {
		var l []string
		for _, c := range level {
			l = append(l, c.Name)
		}
		names = append(names, l)
	}
	if diff := cmp.Diff([][]string{{"platform_api"}, {"teams_api"}, {"web"}}, names); diff != "" {
		t.Errorf("Order (-want +got):\n%s", diff)
	}
}

func TestLoadMissingFolder(t *testing.T) {
	cs, err := Load(t.TempDir())
	if err != nil || cs != nil {
		t.Fatalf("Load of a repository without components = %v, %v; want nothing", cs, err)
	}
}

func TestLoadReportsEveryFile(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, Dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"a.yaml":    "repository: /r\nbuild: make\ndepends_on: [b, bad]\n",
		"b.yaml":    "repository: /r\nbuild: make\ndepends_on: [a]\n",
		"Bad.yaml":  "repository: /r\nbuild: make\n",
		"bad.yaml":  "repository: /r\nbuild: make\nbuld: x\n",
		"notes.txt": "hi",
		".hidden":   "x",
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := Load(root)
	var ie *jobs.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("Load = %v, want an input error", err)
	}
	// Cross-file checks run on the files that parse; bad.yaml exists.
	want := []string{
		`components/Bad.yaml: component name (the file's name): "Bad": a name must start with a lowercase letter and hold only lowercase letters, digits, '_' and single '-' (not at the end)`,
		"components/b.yaml:3:14: dependency cycle: a → b → a",
		`components/bad.yaml:3:1: component: unknown key "buld"; did you mean "build"?`,
		`components/notes.txt: not a component file; every component is described in components/<name>.yaml`,
	}
	var got []string
	for _, p := range ie.Problems {
		got = append(got, p.Error())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		file string // default components/c.yaml
		data string
		want []string
	}{
		{
			name: "minimal is fine",
			data: "repository: https://x/y.git\nbuild: make\n",
		},
		{
			name: "empty file",
			data: "",
			want: []string{
				`components/c.yaml:1:1: missing required key "repository" (a git URL or a local path)`,
				`components/c.yaml:1:1: missing required key "build" (a list of shell commands)`,
			},
		},
		{
			name: "null document",
			data: "~\n",
			want: []string{
				`components/c.yaml:1:1: missing required key "repository" (a git URL or a local path)`,
				`components/c.yaml:1:1: missing required key "build" (a list of shell commands)`,
			},
		},
		{
			name: "variables jobctl sets",
			data: "repository: /r\nbuild: make\nenvironments:\n  qa: {ENVIRONMENT: x, GIT_REF: y, git_hash: z}\n",
			want: []string{
				`components/c.yaml:4:8: environment qa: variable "ENVIRONMENT": this name is set by Jenkins, the shell or jobctl on every build; choose another`,
				`components/c.yaml:4:24: environment qa: variable "GIT_REF": this name is set by Jenkins, the shell or jobctl on every build; choose another`,
				`components/c.yaml:4:36: environment qa: variable "git_hash": this name is set by Jenkins, the shell or jobctl on every build; choose another`,
			},
		},
		{
			name: "not a mapping",
			data: "- a\n",
			want: []string{`components/c.yaml:1:1: component must be a mapping, found a list`},
		},
		{
			name: "syntax error",
			data: "build: [\n",
			want: []string{`components/c.yaml:1: invalid YAML: did not find expected node content`},
		},
		{
			name: "unknown keys with a hint",
			data: "repository: /r\nbuild: make\ndepends: [x]\nenviroments: {}\n",
			want: []string{
				`components/c.yaml:3:1: component: unknown key "depends"; expected one of: branch, build, depends_on, description, environments, path, poll, production_ref, release, repository, stage, test, timeout, tools`,
				`components/c.yaml:4:1: component: unknown key "enviroments"; did you mean "environments"?`,
			},
		},
		{
			name: "bad file name",
			file: "components/Web-.yaml",
			data: "repository: /r\nbuild: make\n",
			want: []string{`components/Web-.yaml: component name (the file's name): "Web-": a name must start with a lowercase letter and hold only lowercase letters, digits, '_' and single '-' (not at the end)`},
		},
		{
			name: "repositories",
			data: "repository: web.git\nbuild: make\n",
			want: []string{`components/c.yaml:1:13: repository "web.git": write a git URL (https://, ssh://, git://, user@host:path) or a local path (file://… or an absolute path)`},
		},
		{
			name: "repository with a space",
			data: "repository: /a b\nbuild: make\n",
			want: []string{`components/c.yaml:1:13: repository "/a b": a repository URL or path cannot contain spaces, quotes, '\', '` + "`" + `', '$', '<', '>', '&', ';' or '|'`},
		},
		{
			name: "repository not a string",
			data: "repository: [a]\nbuild: make\n",
			want: []string{`components/c.yaml:1:13: repository must be a string, found a list`},
		},
		{
			name: "paths",
			data: "repository: /r\npath: ../x\nbuild: make\n",
			want: []string{`components/c.yaml:2:7: path "../x" must be a folder inside the repository, made of letters, digits, '.', '_', '-' and '/'`},
		},
		{
			name: "commands",
			data: "repository: /r\nbuild: []\ntest: ['', {a: b}, \"a\\0b\"]\n",
			want: []string{
				`components/c.yaml:2:8: build needs at least one command`,
				`components/c.yaml:3:8: test: a command cannot be empty`,
				`components/c.yaml:3:12: test command must be a string, found a mapping`,
				`components/c.yaml:3:20: test command contains the control character U+0000 at byte 1, which Jenkins job XML cannot carry`,
			},
		},
		{
			name: "build null",
			data: "repository: /r\nbuild:\n",
			want: []string{`components/c.yaml:2:7: build needs at least one command`},
		},
		{
			name: "commands as a mapping",
			data: "repository: /r\nbuild: {a: b}\n",
			want: []string{`components/c.yaml:2:8: build must be a list, found a mapping`},
		},
		{
			name: "stage and release need an environment",
			data: "repository: /r\nbuild: make\nstage: [s]\nrelease: r\ntest: [t]\n",
			want: []string{
				`components/c.yaml:3:1: stage needs at least one environment to run in; add environments:`,
				`components/c.yaml:4:1: release needs at least one environment to run in; add environments:`,
			},
		},
		{
			name: "empty stage needs no environment",
			data: "repository: /r\nbuild: make\nstage: []\nrelease:\n",
		},
		{
			name: "tools",
			data: "repository: /r\nbuild: make\ntools:\n  no de: 1\n  ruby: \"~> banana\"\n  go: [1]\n  node: 1.0.0-beta\n  java: \">= 2, < 1\"\n  php: 7\n",
			want: []string{
				`components/c.yaml:4:3: tool no de: a tool is named by its command, e.g. node or python3`,
				`components/c.yaml:5:9: tool ruby: invalid version constraint "~> banana"; write e.g. ">= 1.2", "~> 8.12" or ">= 1.2, < 2"`,
				`components/c.yaml:6:7: tool go version must be a string, found a list`,
				`components/c.yaml:7:9: tool node: constraint "1.0.0-beta": pre-release and build metadata versions are not supported; compare release versions only`,
				`components/c.yaml:8:9: tool java: the constraint ">= 2, < 1" can never hold`,
			},
		},
		{
			name: "environments",
			data: "repository: /r\nbuild: make\nenvironments:\n  QA: {}\n  qa: {1X: a, PATH: b, JOBCTL_X: c, Y: [d], Z: null, OK: 1.50}\n  dev: [x]\n  qa: {}\n",
			want: []string{
				`components/c.yaml:4:3: environment name "QA": a name must start with a lowercase letter and hold only lowercase letters, digits, '_' and single '-' (not at the end)`,
				`components/c.yaml:5:8: environment qa: variable "1X": a variable name must be a valid environment variable name (letters, digits and '_', not starting with a digit)`,
				`components/c.yaml:5:15: environment qa: variable "PATH": this name is set by Jenkins, the shell or jobctl on every build; choose another`,
				`components/c.yaml:5:24: environment qa: variable "JOBCTL_X": names starting with JOBCTL_ are reserved for jobctl`,
				`components/c.yaml:5:40: environment qa: variable Y must be a string, found a list`,
				`components/c.yaml:5:48: environment qa: variable Z must be a string, found null`,
				`components/c.yaml:6:8: environment dev must be a mapping, found a list`,
				`components/c.yaml:7:3: environments: duplicate key "qa" (first at line 5)`,
			},
		},
		{
			name: "depends_on",
			data: "repository: /r\nbuild: make\ndepends_on: [a, c, a, Bad, {x: y}]\n",
			want: []string{
				`components/c.yaml:3:17: depends_on: a component cannot depend on itself`,
				`components/c.yaml:3:20: depends_on: "a" is listed twice (first at line 3)`,
				`components/c.yaml:3:23: depends_on: "Bad": a name must start with a lowercase letter and hold only lowercase letters, digits, '_' and single '-' (not at the end)`,
				`components/c.yaml:3:28: depends_on entry must be a string, found a mapping`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := tt.file
			if file == "" {
				file = "components/c.yaml"
			}
			var ps jobs.Problems
			c := Parse(file, []byte(tt.data), &ps)
			got := problems(t, &ps)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if (c == nil) != (len(got) > 0) {
				t.Errorf("Parse returned %v with %d problems; want a component xor problems", c, len(got))
			}
		})
	}
}

// parseAll parses files named by component and returns them sorted.
func parseAll(t *testing.T, files map[string]string) []*Component {
	t.Helper()
	var ps jobs.Problems
	var cs []*Component
	for name, data := range files {
		if c := Parse("components/"+name+".yaml", []byte(data), &ps); c != nil {
			cs = append(cs, c)
		}
	}
	if got := problems(t, &ps); got != nil {
		t.Fatalf("parse problems: %v", got)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
	return cs
}

func TestCheck(t *testing.T) {
	const base = "repository: /r\nbuild: make\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "unknown dependency with a hint",
			files: map[string]string{
				"web":          base + "depends_on: [platfrom_api, nothing_like_it]\n",
				"platform_api": base,
			},
			want: []string{
				`components/web.yaml:3:14: depends_on: no component "platfrom_api" (no components/platfrom_api.yaml); did you mean "platform_api"?`,
				`components/web.yaml:3:28: depends_on: no component "nothing_like_it" (no components/nothing_like_it.yaml)`,
			},
		},
		{
			name: "cycle of three named at the entry that closes it",
			files: map[string]string{
				"a": base + "depends_on: [b]\n",
				"b": base + "depends_on: [c]\n",
				"c": base + "depends_on:\n  - x\n  - a\n",
				"x": base,
			},
			want: []string{`components/c.yaml:5:5: dependency cycle: a → b → c → a`},
		},
		{
			name: "two cycles, each once",
			files: map[string]string{
				"a": base + "depends_on: [b]\n",
				"b": base + "depends_on: [a]\n",
				"c": base + "depends_on: [d, a]\n",
				"d": base + "depends_on: [c]\n",
			},
			want: []string{
				`components/b.yaml:3:14: dependency cycle: a → b → a`,
				`components/d.yaml:3:14: dependency cycle: c → d → c`,
			},
		},
		{
			name: "tool conflict in a shared environment",
			files: map[string]string{
				"api": base + "tools: {node: \"< 9\"}\nenvironments: {qa: {}, production: {}}\n",
				"web": base + "tools:\n  node: \">= 10\"\nenvironments: {production: {}, qa: {}}\n",
			},
			want: []string{`components/api.yaml:3:9: tool node: api needs "< 9" but web (components/web.yaml:4:3) needs ">= 10"; no version satisfies both, and both run in environments production, qa`},
		},
		{
			name: "tool conflict between dependent components",
			files: map[string]string{
				"api": base + "tools: {ruby: \"~> 2.6\"}\nenvironments: {qa: {}}\n",
				"web": base + "tools: {ruby: \"< 2.6\"}\nenvironments: {qa: {}}\ndepends_on: [api]\n",
			},
			want: []string{`components/api.yaml:3:9: tool ruby: api needs "~> 2.6" but web (components/web.yaml:3:9) needs "< 2.6"; no version satisfies both, and both run in environment qa`},
		},
		{
			name: "no conflict without a shared environment",
			files: map[string]string{
				"api": base + "tools: {node: \"< 9\"}\nenvironments: {qa: {}}\n",
				"web": base + "tools: {node: \">= 10\"}\nenvironments: {production: {}}\n",
				"cli": base + "tools: {node: \"= 1\"}\n",
			},
		},
		{
			name: "compatible constraints",
			files: map[string]string{
				"api": base + "tools: {node: \">= 1.0, < 2.0\", ruby: 2.6.3}\nenvironments: {qa: {}}\n",
				"web": base + "tools: {node: \"~> 1.9\", ruby: \"~> 2.6.1\"}\nenvironments: {qa: {}}\n",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := parseAll(t, tt.files)
			var ps jobs.Problems
			Check(cs, &ps)
			if diff := cmp.Diff(tt.want, problems(t, &ps)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSatisfiable(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"~> 2.6", "< 2.6", false},
		{"~> 2.6", "<= 2.6", true},
		{"~> 2.6", ">= 3", false},
		{"~> 2.6", "2.9.9", true},
		{">= 1.0, < 2.0", "~> 1.9", true},
		{">= 1.0, < 2.0", "~> 2.0", false},
		{"~> 1.2.3", ">= 1.3", false},
		{"~> 1.2.3", "1.2.99", true},
		{"!= 1.2", "= 1.2", false},
		{"!= 1.2", "= 1.2.0", false},
		{"!= 1.2", ">= 1.2, <= 1.2", false},
		{"!= 1.2", ">= 1.2, <= 1.2.0.1", true},
		{"> 1.2", "< 1.2.0.1", true},
		{"> 1.2", "<= 1.2", false},
		{">= 1.2", "<= 1.2", true},
		{"= 8.12.0", "8.12", true},
		{"8.12.0", "8.12.1", false},
		{">= 10", "< 9", false},
		{"< 0.0", "> 0", false},
		{"<= 0", "!= 0", false},
		{"<= 0", ">= 0", true},
		{"!= 1, != 2", "!= 3", true},
		{">= 01.002", "< 1.2", false},
	}
	for _, tt := range tests {
		a, err := jobs.VersionChecks(tt.a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := jobs.VersionChecks(tt.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := satisfiable(append(a, b...)); got != tt.want {
			t.Errorf("%q together with %q: satisfiable = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
	// Pre-release versions never get this far: they are not constraints
	// jobctl accepts, so no conflict is computed on them.
	for _, s := range []string{"~> 2.6.0-beta", "= 1.0.0-rc1", ">= 1.0+build"} {
		if _, err := jobs.VersionChecks(s); err == nil {
			t.Errorf("VersionChecks(%q) accepted a pre-release version", s)
		}
	}
}

func TestOrder(t *testing.T) {
	const base = "repository: /r\nbuild: make\n"
	cs := parseAll(t, map[string]string{
		"web":      base + "depends_on: [api, teams]\n",
		"api":      base + "depends_on: [db]\n",
		"teams":    base + "depends_on: [db, auth]\n",
		"db":       base,
		"auth":     base,
		"docs":     base,
		"mobile":   base + "depends_on: [api]\n",
		"loop_a":   base + "depends_on: [loop_b]\n",
		"loop_b":   base + "depends_on: [loop_a]\n",
		"dangling": base + "depends_on: [missing]\n",
	})
	var got []string
	for _, level := range Order(cs) {
		var l []string
		for _, c := range level {
			l = append(l, c.Name)
		}
		got = append(got, strings.Join(l, " "))
	}
	want := []string{
		"auth dangling db docs",
		"api teams",
		"mobile web",
		"loop_a loop_b",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Order (-want +got):\n%s", diff)
	}
	if Order(nil) != nil {
		t.Errorf("Order(nil) is not empty")
	}
}

// FuzzParse feeds arbitrary bytes to the component parser: it must never
// panic, and it returns a component exactly when it records no problem,
// every problem naming the file.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/shop/components/*.yaml")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("repository: /r\nbuild: make\ntools: {node: '~> 1', x: '!= 2'}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("repository: &r /r\nbuild: *r\nenvironments: {qa: {A: *r}}\ndepends_on: *r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var ps jobs.Problems
		c := Parse("components/c.yaml", data, &ps)
		if (c == nil) == (ps.Len() == 0) {
			t.Fatalf("Parse returned %v with %d problems; want a component xor problems", c, ps.Len())
		}
		if err := ps.Err(); err != nil {
			for _, p := range err.(*jobs.InputError).Problems {
				if p.File == "" || p.Msg == "" {
					t.Fatalf("problem without file or message: %+v", p)
				}
			}
			return
		}
		cs := []*Component{c}
		Check(cs, &ps)
		Order(cs)
	})
}
