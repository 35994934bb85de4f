package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGraph draws the example as a user would and compares it with the
// graph package's golden files; graph must write nothing.
func TestGraph(t *testing.T) {
	dir := t.TempDir()
	copyExample(t, dir, false)
	for _, tc := range []struct {
		name   string
		args   []string
		golden string
	}{
		{name: "default", args: []string{"graph"}, golden: "modelshop.dot"},
		{name: "dot", args: []string{"graph", "--format", "dot"}, golden: "modelshop.dot"},
		{name: "mermaid", args: []string{"graph", "--format=mermaid"}, golden: "modelshop.mmd"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runJobctl(t, dir, tc.args...)
			if r.code != 0 {
				t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
			}
			want, err := os.ReadFile(filepath.Join("..", "graph", "testdata", tc.golden))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(want), r.stdout); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
		})
	}
	for _, f := range []string{"build", "jobctl.lock"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("jobctl graph wrote %s", f)
		}
	}

	r := runJobctl(t, dir, "graph", "--format", "svg")
	if r.code != 2 || !strings.Contains(r.stderr, `--format "svg": want dot or mermaid`) || r.stdout != "" {
		t.Errorf("--format svg: exit %d, want 2 and an error naming --format\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}
