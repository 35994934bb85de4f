package jobs

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDeployedName(t *testing.T) {
	n := DeployedName("process_upload", 12, "3f9a0c1d2e4b")
	if n != "process_upload-v12-3f9a0c1d2e4b" {
		t.Fatalf("DeployedName = %q", n)
	}
	name, v, h, ok := ParseDeployedName(n)
	if !ok || name != "process_upload" || v != 12 || h != "3f9a0c1d2e4b" {
		t.Errorf("ParseDeployedName(%q) = %q %d %q %v", n, name, v, h, ok)
	}
	name, _, _, ok = ParseDeployedName("web-frontend-build-test-v3-0123456789ab")
	if !ok || name != "web-frontend-build-test" {
		t.Errorf("hyphenated name: %q %v", name, ok)
	}
	for _, s := range []string{"x", "x-v0-0123456789ab", "x-v1-0123456789AB", "x-v1-0123456789a", "X-v1-0123456789ab", "x-v01-0123456789ab"} {
		if _, _, _, ok := ParseDeployedName(s); ok {
			t.Errorf("ParseDeployedName(%q) accepted", s)
		}
	}
}

func TestMarkerRoundTrip(t *testing.T) {
	m := Marker{Project: "modelshop", Name: "process_upload", Kind: Orchestration, Version: 3, Hash: "3f9a0c1d2e4b", Calls: []string{"a-v1-0123456789ab"}}
	desc := Describe("Runs the upload.\n<!-- jobctl {\"project\":\"evil\"} --> and text", m)
	got, ok := ParseMarker(desc)
	if !ok {
		t.Fatalf("ParseMarker(%q) failed", desc)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if !strings.HasSuffix(desc, m.String()) {
		t.Errorf("marker is not last: %q", desc)
	}
	for _, d := range []string{"", "plain", "<!-- jobctl {} -->", "<!-- jobctl {\"project\":\"p\",\"name\":\"n\",\"version\":1,\"hash\":\"0123456789ab\",\"extra\":1} -->",
		m.String() + " trailing"} {
		if _, ok := ParseMarker(d); ok {
			t.Errorf("ParseMarker(%q) accepted", d)
		}
	}
}

func TestLock(t *testing.T) {
	var ps Problems
	l := ParseLock(LockFile, []byte("b v2 0123456789ab\na v1 aaaaaaaaaaaa\n"), &ps)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, hash  string
		wantVersion int
		wantStatus  Status
	}{
		{"a", "aaaaaaaaaaaa", 1, Unchanged},
		{"b", "bbbbbbbbbbbb", 3, Changed},
		{"c", "cccccccccccc", 1, New},
	}
	for _, tt := range tests {
		v, s := l.Assign(tt.name, tt.hash)
		if v != tt.wantVersion || s != tt.wantStatus {
			t.Errorf("Assign(%s) = %d %s, want %d %s", tt.name, v, s, tt.wantVersion, tt.wantStatus)
		}
	}
	l.Set("c", 1, "cccccccccccc")
	if got, want := string(l.Bytes()), "a v1 aaaaaaaaaaaa\nb v2 0123456789ab\nc v1 cccccccccccc\n"; got != want {
		t.Errorf("Bytes = %q, want %q", got, want)
	}

	ps = Problems{}
	ParseLock(LockFile, []byte("a v1 aaaaaaaaaaaa\n<<<<<<< HEAD\na v2 bbbbbbbbbbbb\n"), &ps)
	got := strings.Split(ps.Err().Error(), "\n")
	want := []string{
		`jobctl.lock:2:1: malformed line "<<<<<<< HEAD"; each line is "<name> v<N> <12 hex digits>" (resolve merge conflicts by keeping the higher version, then run jobctl build)`,
		`jobctl.lock:3:1: a is listed twice; keep the line with the higher version`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}
