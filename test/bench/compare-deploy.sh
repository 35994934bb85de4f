#!/usr/bin/env bash
# Times `jobctl deploy` of N new jobs against `jenkins-jobs update` of the
# equivalent Jenkins Job Builder YAML (test/bench/genrepo), each against a
# fresh local master (`jobctl master`, secured with an API token, so neither
# needs crumbs), and prints both times, the ratio, and the time of an
# unchanged jobctl redeploy.
#
#   bash test/bench/compare-deploy.sh          # 1,000 jobs
#   SIZES="1000 5000" bash test/bench/compare-deploy.sh
#
# Needs: go, and jenkins-jobs (apt-get install -y jenkins-job-builder).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES=${SIZES:-"1000"}
command -v jenkins-jobs >/dev/null || { echo "compare-deploy: jenkins-jobs not found; apt-get install -y jenkins-job-builder" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/jobctl" ./cmd/jobctl
go build -o "$work/genrepo" ./test/bench/genrepo
user=bench
token=0123456789abcdef0123456789abcdef

# start_master HOME: starts a master, sets $url.
start_master() {
  JOBCTL_MASTER_TOKEN=$token "$work/jobctl" master --home "$1" --addr 127.0.0.1:0 --user "$user" >"$1.url" 2>"$1.log" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$1.url" ] && break; sleep 0.1; done
  url=$(head -1 "$1.url")
  [ -n "$url" ] || { echo "the master did not start:" >&2; cat "$1.log" >&2; exit 1; }
}

count_jobs() { # URL: the number of jobs in folder modelshop... or at the root
  curl -fsS -u "$user:$token" "$1api/json?tree=jobs%5Bname,jobs%5Bname%5D%5D" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(len(j.get("jobs") or [])  or 1 for j in d["jobs"]))'
}

now() { date +%s.%N; }
printf '%-8s %14s %14s %8s %18s\n' jobs jobctl_s jjb_s ratio jobctl_redeploy_s
for n in $SIZES; do
  "$work/genrepo" -n "$n" -repo "$work/repo-$n" -jjb "$work/jjb-$n"
  "$work/jobctl" build -C "$work/repo-$n" >/dev/null 2>&1 # the lock, as a team would have it

  start_master "$work/home-jobctl-$n"
  jurl=$url
  start_master "$work/home-jjb-$n"
  kurl=$url
  printf '[job_builder]\nignore_cache=True\n\n[jenkins]\nurl=%s\nuser=%s\npassword=%s\nquery_plugins_info=False\n' "$kurl" "$user" "$token" >"$work/jjb.ini"

  t0=$(now)
  JENKINS_USER=$user JENKINS_API_TOKEN=$token "$work/jobctl" deploy -C "$work/repo-$n" --url "$jurl" >"$work/deploy-$n.out" 2>"$work/deploy-$n.log" || { cat "$work/deploy-$n.log" >&2; exit 1; }
  t1=$(now)
  HOME=$work XDG_CACHE_HOME=$work/cache jenkins-jobs --conf "$work/jjb.ini" update "$work/jjb-$n/jobs.yaml" >/dev/null 2>"$work/jjb-$n.log" || { tail -20 "$work/jjb-$n.log" >&2; exit 1; }
  t2=$(now)
  JENKINS_USER=$user JENKINS_API_TOKEN=$token "$work/jobctl" deploy -C "$work/repo-$n" --url "$jurl" >"$work/redeploy-$n.out" 2>&1
  t3=$(now)

  created=$(grep -c '^created .*-v[0-9]*-' "$work/deploy-$n.out" || true)
  [ "$created" -eq "$n" ] || { echo "jobctl created $created jobs, want $n" >&2; exit 1; }
  unchanged=$(grep -c '^unchanged ' "$work/redeploy-$n.out" || true)
  [ "$unchanged" -eq "$n" ] || { echo "the redeploy left $unchanged jobs unchanged, want $n" >&2; exit 1; }
  jjb=$(count_jobs "$kurl")
  [ "$jjb" -ge "$n" ] || { echo "jenkins-jobs made $jjb jobs, want $n" >&2; exit 1; }
  awk -v n="$n" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN { j=b-a; k=c-b; printf "%-8d %14.3f %14.3f %7.1fx %18.3f\n", n, j, k, k/j, d-c }'
done
