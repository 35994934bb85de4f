#!/usr/bin/env bash
# demo.sh: the quickstart's main job, end to end on this machine: start a
# local master (jobctl master), deploy the example repository to it
# (jobctl deploy), run the process_upload pipeline on a real model, and
# show its report.
#
# Until jobctl run exists (it is planned), the trigger is done here with
# curl, as any Jenkins client would: a crumb, buildWithParameters, then
# polling the queue item and the build.
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

jar=$work/cookies
crumb=$(curl -sS -c "$jar" "${url}crumbIssuer/api/json" | sed -n 's/.*"crumb":"\([^"]*\)".*/\1/p')

say "jobctl deploy -C $repo"
JENKINS_URL=$url "$jobctl" deploy -C "$repo" | tee "$work/deploy" >&2
project=$(sed -n 's/^  "folder": "\(.*\)",$/\1/p' "$repo/build/manifest.json")
# One job per line in the manifest: "<name> <deployed>".
sed -n 's/^    {"name":"\([^"]*\)","kind":"[^"]*","version":[0-9]*,"hash":"[^"]*","deployed":"\([^"]*\)".*/\1 \2/p' "$repo/build/manifest.json" >"$work/jobs"
pipeline=$(awk '$1 == "process_upload" { print $2 }' "$work/jobs")

say "running process_upload on $(basename "$model")"
location=$(curl -sS --fail -b "$jar" -H "Jenkins-Crumb: $crumb" -D - -o /dev/null -X POST \
  --data-urlencode "SOURCE_S3_FILE_PATH=$model" --data-urlencode MATERIAL=petg \
  "${url}job/$project/job/$pipeline/buildWithParameters" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
echo "queued: $location" >&2
build_url=''
for _ in $(seq 600); do
  build_url=$(curl -sS -b "$jar" "${location}api/json" | sed -n 's/.*"executable":{[^}]*"url":"\([^"]*\)".*/\1/p')
  [[ -n $build_url ]] && break
  sleep 0.1
done
for _ in $(seq 1200); do
  curl -sS -b "$jar" "${build_url}api/json?tree=building" | grep -q '"building":false' && break
  sleep 0.25
done
result=$(curl -sS -b "$jar" "${build_url}api/json?tree=result" | sed -n 's/.*"result":"\([A-Z_]*\)".*/\1/p')
echo "$build_url: $result" >&2

say "the console of the pipeline (the last lines)"
curl -sS -b "$jar" "${build_url}consoleText" | tail -n 12 >&2

say "its report.json"
curl -sS --fail -b "$jar" "${build_url}artifact/report.json" >"$work/report.json"
if command -v python3 >/dev/null 2>&1; then
  python3 -m json.tool "$work/report.json"
else
  cat "$work/report.json"
  echo
fi
[[ $result == SUCCESS ]]
