package compiler

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/jobctl/jobctl/jobs"
)

func TestShLibFunctions(t *testing.T) {
	files := []*LibFile{
		{Path: "lib/sh/a.sh", Data: []byte(`posix_style() {
  :
}
function ksh_style {
  :
}
function both_style() (
  :
)
next_line()
{
  b_helper
}
awk_user() {
  awk '
    function awk_helper(a, b) { return a + b }
    { print awk_helper($1, $2) }
  '
}
`)},
		{Path: "lib/sh/b.sh", Data: []byte("b_helper() { echo b; }\n")},
		{Path: "lib/sh/c.sh", Data: []byte("c_helper() { echo c; }\n")},
	}
	var ps jobs.Problems
	l := newShLib(files, &ps)
	if err := ps.Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for name := range l.defines {
		got = append(got, name)
	}
	want := []string{"awk_user", "b_helper", "both_style", "c_helper", "ksh_style", "next_line", "posix_style"}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
	// next_line calls b_helper: using a.sh pulls in b.sh, not c.sh.
	code := string(l.For([]byte("#!/bin/bash\nposix_style\n")))
	if diff := cmp.Diff("# --- lib/sh/a.sh ---\n"+string(files[0].Data)+"# --- lib/sh/b.sh ---\n"+string(files[1].Data), code); diff != "" {
		t.Errorf("lib code (-want +got):\n%s", diff)
	}
	if code := l.For([]byte("#!/bin/bash\necho nothing\n")); code != nil {
		t.Errorf("a body using no function got lib code:\n%s", code)
	}

	ps = jobs.Problems{}
	newShLib([]*LibFile{files[2], {Path: "lib/sh/d.sh", Data: []byte("c_helper() { :; }\n")}}, &ps)
	if err := ps.Err(); err == nil || err.Error() != "lib/sh/d.sh:1:1: shell function c_helper is also defined at lib/sh/c.sh:1; a function can live in one lib/sh file only" {
		t.Errorf("duplicate function: %v", err)
	}
}

func TestRunsBash(t *testing.T) {
	for line, want := range map[string]bool{
		"#!/bin/bash":                true,
		"#!/usr/bin/env bash":        true,
		"#! /bin/bash -e":            true,
		"#!/usr/bin/env -S bash -eu": true,
		"#!/bin/sh":                  false,
		"#!/usr/bin/env python3":     false,
		"#!":                         false,
	} {
		if got := runsBash(line); got != want {
			t.Errorf("runsBash(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestWithDescription(t *testing.T) {
	doc := []byte("<a><description>old &amp; x</description><p><description>other</description></p></a>")
	got := withDescription(doc, "old & x", "new <y>")
	if want := "<a><description>new &lt;y&gt;</description><p><description>other</description></p></a>"; string(got) != want {
		t.Errorf("withDescription = %q, want %q", got, want)
	}
	twice := []byte("<description>d</description><description>d</description>")
	if got := withDescription(twice, "d", "e"); got != nil {
		t.Errorf("an ambiguous description was replaced: %q", got)
	}
	if got := withDescription(doc, "absent", "e"); got != nil {
		t.Errorf("a missing description was replaced: %q", got)
	}
}
