#!/usr/bin/env bash
# Times `jobctl build` against Jenkins Job Builder's `jenkins-jobs test -o DIR`
# on the same generated jobs (half workers, half orchestrations calling two
# workers each), and prints the ratio.
#
#   bash test/bench/compare-jjb.sh            # 1,000 and 10,000 jobs
#   SIZES="1000" bash test/bench/compare-jjb.sh
#
# Needs: go, and jenkins-jobs (apt-get install -y jenkins-job-builder).
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES=${SIZES:-"1000 10000"}
command -v jenkins-jobs >/dev/null || { echo "compare-jjb: jenkins-jobs not found; apt-get install -y jenkins-job-builder" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/jobctl" ./cmd/jobctl
go build -o "$work/genrepo" ./test/bench/genrepo

now() { date +%s.%N; }
printf '%-8s %14s %14s %8s\n' jobs jobctl_s jjb_s ratio
for n in $SIZES; do
  "$work/genrepo" -n "$n" -repo "$work/repo-$n" -jjb "$work/jjb-$n"
  sync
  t0=$(now)
  "$work/jobctl" build -C "$work/repo-$n" --out "$work/out-jobctl-$n" >/dev/null 2>&1
  t1=$(now)
  jenkins-jobs --conf /dev/null test -o "$work/out-jjb-$n" "$work/jjb-$n/jobs.yaml" >/dev/null 2>"$work/jjb-$n.log" || {
    # Older JJB wants a real (empty) config file.
    printf '[job_builder]\nignore_cache=True\n' > "$work/jjb.ini"
    jenkins-jobs --conf "$work/jjb.ini" test -o "$work/out-jjb-$n" "$work/jjb-$n/jobs.yaml" >/dev/null 2>"$work/jjb-$n.log"
  }
  t2=$(now)
  jobs_out=$(ls "$work/out-jobctl-$n/jobs" | wc -l)
  jjb_out=$(ls "$work/out-jjb-$n" | wc -l)
  [ "$jobs_out" -eq "$n" ] || { echo "jobctl wrote $jobs_out definitions, want $n" >&2; exit 1; }
  [ "$jjb_out" -eq "$n" ] || { echo "jenkins-jobs wrote $jjb_out definitions, want $n" >&2; cat "$work/jjb-$n.log" >&2; exit 1; }
  awk -v n="$n" -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { j=b-a; k=c-b; printf "%-8d %14.3f %14.3f %7.1fx\n", n, j, k, k/j }'
done
