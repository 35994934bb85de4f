#!/usr/bin/env bash
# test.sh: the teams API's tests.
set -euo pipefail
roster=$(mktemp)
trap 'rm -f "$roster"' EXIT
./teams.sh add "$roster" printing ada
./teams.sh add "$roster" printing grace
./teams.sh add "$roster" sales linus
got=$(./teams.sh members "$roster" printing | paste -sd,)
[[ $got == ada,grace ]] || { echo "FAIL: members of printing: got $got, want ada,grace"; exit 1; }
echo "PASS: 1 test"
