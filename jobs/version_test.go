package jobs

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
	version "github.com/hashicorp/go-version"
)

func TestVersionChecks(t *testing.T) {
	tests := []struct {
		in   string
		want []VersionCheck
	}{
		{"~> 8.12", []VersionCheck{{">=", "8.12"}, {"<", "9"}}},
		{"~> 8.12.3", []VersionCheck{{">=", "8.12.3"}, {"<", "8.13"}}},
		{"~> 2", []VersionCheck{{">=", "2"}}},
		{">= 1.2, < 2", []VersionCheck{{">=", "1.2"}, {"<", "2"}}},
		{"8.12.0", []VersionCheck{{"=", "8.12.0"}}},
		{"!= 1.0", []VersionCheck{{"!=", "1.0"}}},
		{"v1.02", []VersionCheck{{"=", "1.2"}}},
	}
	for _, tt := range tests {
		got, err := VersionChecks(tt.in)
		if err != nil {
			t.Errorf("VersionChecks(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("VersionChecks(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	for _, bad := range []string{"", "x", ">= 1.0-beta", "~> ", "=> 1"} {
		if _, err := VersionChecks(bad); err == nil {
			t.Errorf("VersionChecks(%q) succeeded", bad)
		}
	}
}

// TestVersionChecksAgreeWithGoVersion compares the compiled checks, which
// the wrapper evaluates in bash, with go-version itself on random input.
func TestVersionChecksAgreeWithGoVersion(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	ver := func() string {
		n := 1 + rng.Intn(3)
		s := fmt.Sprint(rng.Intn(12))
		for i := 1; i < n; i++ {
			s += fmt.Sprintf(".%d", rng.Intn(12))
		}
		return s
	}
	ops := []string{"", "=", "!=", ">", "<", ">=", "<=", "~>"}
	for i := 0; i < 20000; i++ {
		c := ops[rng.Intn(len(ops))] + " " + ver()
		if rng.Intn(3) == 0 {
			c += ", " + ops[1+rng.Intn(len(ops)-1)] + " " + ver()
		}
		v := ver()
		checks, err := VersionChecks(c)
		if err != nil {
			t.Fatalf("VersionChecks(%q): %v", c, err)
		}
		gc, _ := version.NewConstraint(c)
		want := gc.Check(version.Must(version.NewVersion(v)))
		if got := Holds(checks, v); got != want {
			t.Fatalf("%q against %s: checks %v say %v, go-version says %v", c, v, checks, got, want)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"8.12", "8.12.0", 0}, {"9", "10", -1}, {"10.0", "9.9.9", 1}, {"1.010", "1.10", 0}, {"123456789012345678901", "2", 1}} {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCheckOutputs(t *testing.T) {
	outputs := []Field{
		{Name: "volume", Type: TypeNumber, Required: true},
		{Name: "count", Type: TypeInteger},
		{Name: "bbox", Type: TypeObject, Fields: []Field{{Name: "min", Type: TypeArray, Required: true, Items: &Field{Type: TypeNumber}}}},
		{Name: "extra", Type: TypeAny},
	}
	got := CheckOutputs(outputs, map[string]any{
		"count": 1.5,
		"bbox":  map[string]any{"min": []any{1.0, "x"}},
		"extra": []any{},
	})
	want := []string{"bbox.min[1]: want number, found string", "count: want integer, found number", "volume: required, missing"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CheckOutputs (-want +got):\n%s", diff)
	}
	if got := CheckOutputs(outputs, map[string]any{"volume": 3.0, "count": 2.0}); len(got) != 0 {
		t.Errorf("valid data rejected: %v", got)
	}
}
