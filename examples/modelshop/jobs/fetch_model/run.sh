#!/usr/bin/env bash
# fetch_model: copy or download the customer's model into the workspace and
# say what arrived. fetch_to (lib/sh/fetch.sh) does the fetching and fails
# clearly on a missing, empty or oversized model.
set -euo pipefail

dest=${DEST:-model.stl}
case /$dest/ in
  //* | */../*) die "DEST must be a relative path inside the workspace, found '$dest'" ;;
esac
case $dest in
  */*) mkdir -p -- "${dest%/*}" ;;
esac

fetch_to "${SOURCE:-}" "$dest"

name=$(source_name "$SOURCE")
format=$(stl_format "$dest")
if [[ $format == unknown ]]; then
  die "$name is not an STL file: it is neither ASCII STL (text starting with 'solid') nor binary STL (84 + 50 x triangles bytes)"
fi
size=$(file_size "$dest")
sum=$(sha256_of "$dest")

printf '{"name": %s, "path": %s, "size_bytes": %s, "sha256": %s, "format": %s}\n' \
  "$(json_str "$name")" "$(json_str "$dest")" "$size" "$(json_str "$sum")" "$(json_str "$format")" \
  >"$JOBCTL_REPORT_DATA"
echo "$name: $format, $size bytes, sha256 $sum"
