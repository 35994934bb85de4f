package master

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPluginVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{in: "2.16.0", want: "2.16.0"},
		{in: "1520.v56d65e3b_4566", want: "1520"},
		{in: "6.1012.v79a_86a_1ea_c1f", want: "6.1012"},
		{in: "2.16.0-rc1", want: "2.16.0"},
		{in: "1.28", want: "1.28"},
		{in: "v2", want: ""},
	}
	for _, tt := range tests {
		if got := PluginVersion(tt.in); got != tt.want {
			t.Errorf("PluginVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDeployRecord(t *testing.T) {
	rec := map[string]string{"b-v1-000000000000": "2026-11-02T00:00:00Z", "a-v1-000000000000": "2026-11-01T00:00:00Z"}
	desc := withRecord("The latest versions.", rec)
	want := `The latest versions.

<!-- jobctl-deployed {"a-v1-000000000000":"2026-11-01T00:00:00Z","b-v1-000000000000":"2026-11-02T00:00:00Z"} -->`
	if diff := cmp.Diff(want, desc); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(rec, ParseDeployRecord(desc)); diff != "" {
		t.Errorf("parsed (-want +got):\n%s", diff)
	}
	// Replacing keeps one record.
	if again := withRecord(desc, rec); again != desc {
		t.Errorf("rewriting the record changed it:\n%s", again)
	}
	if got := ParseDeployRecord("no record <!-- jobctl-deployed {bad -->"); len(got) != 0 {
		t.Errorf("a bad record parsed as %v", got)
	}
}

func TestNoMasterAtDefault(t *testing.T) {
	if ln, err := net.Dial("tcp", "127.0.0.1:8080"); err == nil {
		ln.Close()
		t.Skip("something listens on 127.0.0.1:8080")
	}
	_, err := New(context.Background(), Config{})
	if err == nil || !strings.Contains(err.Error(), "jobctl master") {
		t.Errorf("error %v does not say how to start a master", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("JENKINS_URL", "http://env/")
	t.Setenv("JENKINS_USER", "u")
	t.Setenv("JENKINS_API_TOKEN", "t")
	if diff := cmp.Diff(Config{URL: "http://env/", User: "u", Token: "t"}, ConfigFromEnv("")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := ConfigFromEnv("http://flag/").URL; got != "http://flag/" {
		t.Errorf("the flag does not override JENKINS_URL: %s", got)
	}
}
