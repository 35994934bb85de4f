#!/usr/bin/env bash
# store_result: write RESULT_JSON to RESULT_URL (store_to, lib/sh/store.sh).
set -euo pipefail

result=${RESULT_JSON:-}
trimmed=${result#"${result%%[![:space:]]*}"}
[[ $trimmed == '{'* ]] || die "RESULT_JSON must be a JSON object, found '${result:0:80}'"
printf '%s\n' "$result" >result.json

store_to result.json "${RESULT_URL:-}"

printf '{"url": %s, "size_bytes": %s, "sha256": %s}\n' \
  "$(json_str "$(redact_url "$RESULT_URL")")" "$(file_size result.json)" "$(json_str "$(sha256_of result.json)")" \
  >"$JOBCTL_REPORT_DATA"
