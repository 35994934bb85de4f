#!/usr/bin/env bash
# build.sh: checks every script's syntax and bundles them into dist/.
set -euo pipefail
for f in *.sh; do bash -n "$f"; done
mkdir -p dist
cp teams.sh dist/
echo "built dist/teams.sh"
