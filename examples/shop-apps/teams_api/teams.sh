#!/usr/bin/env bash
# teams.sh: the teams API's core, a team roster in a TSV file.
# teams.sh add FILE TEAM MEMBER | teams.sh members FILE TEAM
set -euo pipefail
cmd=${1:?usage: teams.sh add|members FILE TEAM [MEMBER]}
file=${2:?missing FILE}
team=${3:?missing TEAM}
case $cmd in
add) printf '%s\t%s\n' "$team" "${4:?missing MEMBER}" >>"$file" ;;
members) [[ -f $file ]] && awk -F'\t' -v t="$team" '$1 == t { print $2 }' "$file" | sort ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
