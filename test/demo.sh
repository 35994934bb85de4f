#!/usr/bin/env bash
# demo.sh: the quickstart's main job, end to end on this machine: start a
# local master (jobctl master), deploy the compiled example to it, run the
# process_upload pipeline on a real model, and show its report.
#
# Until jobctl deploy and jobctl run exist (they are planned), the deploy
# and the trigger are done here with curl, as any Jenkins client would:
# a crumb, createItem for the folder and each job in dependency order,
# buildWithParameters, then polling the queue item and the build.
#
# Usage: test/demo.sh JOBCTL BUILD_DIR MODEL
set -euo pipefail

jobctl=$1 build=$2 model=$3
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
post() { # post PATH [curl args...]
  local path=$1
  shift
  curl -sS --fail-with-body -b "$jar" -H "Jenkins-Crumb: $crumb" -o /dev/null -w '%{http_code} %{redirect_url}\n' -X POST "$@" "${url}${path}"
}

project=$(sed -n 's/^  "folder": "\(.*\)",$/\1/p' "$build/manifest.json")
say "deploying $build to the folder $project"
post "createItem?name=$project" -H 'Content-Type: application/xml' --data-binary "@$build/folder.xml" >/dev/null
# One job per line in the manifest, in dependency order.
sed -n 's/^    {"name":"\([^"]*\)","kind":"[^"]*","version":[0-9]*,"hash":"[^"]*","deployed":"\([^"]*\)".*/\1 \2/p' "$build/manifest.json" >"$work/jobs"
while read -r name deployed; do
  post "job/$project/createItem?name=$deployed" -H 'Content-Type: application/xml' --data-binary "@$build/jobs/$deployed.xml" >/dev/null
  printf '  %-20s %s\n' "$name" "$deployed" >&2
done <"$work/jobs"
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
