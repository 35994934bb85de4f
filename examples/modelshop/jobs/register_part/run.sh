#!/usr/bin/env bash
# register_part: POST the part to the calling application.
# - 2xx: done; the part id is the response's "id" field, if any.
# - 5xx, 429 or no connection: retry, waiting 1, 2, 4 then 8 seconds.
# - any other status (4xx): fail at once with the status and the response.
set -euo pipefail

url=${REGISTRATION_RETURN_URL:-}
[[ $url =~ ^https?://[^[:space:]]+$ ]] ||
  die "REGISTRATION_RETURN_URL must be an http:// or https:// URL, found '$url'"
shown=$(redact_url "$url")
part=${PART_JSON:-}
trimmed=${part#"${part%%[![:space:]]*}"}
trimmed=${trimmed%"${trimmed##*[![:space:]]}"}
[[ $trimmed == '{'*'}' ]] || die "PART_JSON must be a JSON object, found '${part:0:80}'"
printf '%s' "$part" >part.json

max_attempts=5
delay=1
attempt=0
while :; do
  attempt=$((attempt + 1))
  rc=0
  rm -f response.json # curl writes none for an empty answer; never read an old one
  code=$(curl -sS -o response.json -w '%{http_code}' --connect-timeout 10 --max-time 60 \
    -X POST -H 'Content-Type: application/json' -H 'Accept: application/json' \
    --data-binary @part.json "$url") || rc=$?
  case $rc:$code in
    0:2??) break ;;
    0:5?? | 0:429) problem="HTTP $code" ;;
    0:*)
      body=$(head -c 300 response.json 2>/dev/null | tr -s '\r\n\t' '   ')
      die "registration rejected by $shown: HTTP $code${body:+: $body}"
      ;;
    *) problem="no answer (curl exit $rc)" ;;
  esac
  if ((attempt >= max_attempts)); then
    die "registration failed after $attempt attempts: $problem from $shown"
  fi
  echo "attempt $attempt: $problem from $shown; retrying in ${delay}s"
  sleep "$delay"
  delay=$((delay * 2))
done

# The first "id" member of the response: a string (simple escapes undone)
# or a number. Good enough for the flat {"id": ...} answers applications give.
part_id=$(LC_ALL=C awk '
  { text = text $0 " " }
  END {
    if (!match(text, /"id"[ \t]*:[ \t]*("([^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*)/)) exit
    v = substr(text, RSTART, RLENGTH)
    sub(/^"id"[ \t]*:[ \t]*/, "", v)
    if (v ~ /^"/) {
      v = substr(v, 2, length(v) - 2)
      out = ""
      while ((i = index(v, "\\")) > 0) {
        out = out substr(v, 1, i - 1) substr(v, i + 1, 1)
        v = substr(v, i + 2)
      }
      v = out v
    }
    printf "%s", v
  }
' response.json 2>/dev/null || true)

printf '{"status_code": %d, "part_id": %s, "attempts": %d}\n' \
  "$code" "$(json_str "$part_id")" "$attempt" >"$JOBCTL_REPORT_DATA"
echo "registered with $shown: HTTP $code, part id '${part_id}' (attempt $attempt)"
