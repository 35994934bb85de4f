#!/usr/bin/env bash
# demo.sh: the quickstart's main job, end to end on this machine: start a
# local master (jobctl master), deploy the example repository to it
# (jobctl deploy), run the process_upload pipeline on a real model, and
# show its report.
#
# It is what a user types, with the master's URL in JENKINS_URL.
#
# Usage: test/demo.sh JOBCTL REPOSITORY MODEL
set -euo pipefail

jobctl=$1 repo=$2 model=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/jobctl-demo.XXXXXX")
master_pid=''
cleanup() {
  [[ -n $master_pid ]] && kill "$master_pid" 2>/dev/null && wait "$master_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n== %s\n' "$*" >&2; }

say "starting a local master (jobctl master), home $work/home"
"$jobctl" master --home "$work/home" --addr 127.0.0.1:0 --executors 3 >"$work/url" 2>"$work/master.log" &
master_pid=$!
for _ in $(seq 100); do
  [[ -s $work/url ]] && break
  sleep 0.1
done
url=$(head -n 1 "$work/url")
[[ $url == http://* ]] || { cat "$work/master.log" >&2; exit 1; }
echo "$url" >&2

say "jobctl deploy -C $repo"
JENKINS_URL=$url "$jobctl" deploy -C "$repo" >&2

say "jobctl run process_upload -p SOURCE_S3_FILE_PATH=$(basename "$model") -p MATERIAL=petg --wait"
status=0
JENKINS_URL=$url "$jobctl" run -C "$repo" process_upload -p "SOURCE_S3_FILE_PATH=$model" -p MATERIAL=petg --wait >"$work/run" || status=$?
queue=$(head -n 1 "$work/run")
echo "the promise: $queue" >&2

say "jobctl logs process_upload (the last lines)"
JENKINS_URL=$url "$jobctl" logs -C "$repo" process_upload | tail -n 8 >&2

say "its report"
tail -n +2 "$work/run"
exit "$status"
