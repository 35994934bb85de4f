#!/usr/bin/env bash
# check_mesh: can the mesh of an ASCII STL model be printed? stl_load
# (lib/sh/stl.sh) fetches the model and checks its syntax; stl_edges counts
# what makes a mesh unprintable:
# - open edges, used by one triangle only (a hole in the surface);
# - non-manifold edges, used by more than two triangles;
# - flipped edges, traversed the same way by both their triangles (a facet
#   turned over);
# - degenerate triangles, of zero area (see stl_edges for the tolerance).
# A mesh without any of these must also enclose a volume (two copies of a
# facet back to back do not). The body writes its data (the counts and the
# problems) first and then, when the mesh is not printable, fails with every
# problem in one line, so that a caller can read the counts either way.
set -euo pipefail

stl_load "${MODEL_URL:-}" model.stl triangles.txt
name=$(source_name "$MODEL_URL")
n=$(wc -l <triangles.txt)
n=$((n + 0))
edges=$(stl_edges triangles.txt)
read -r open nonmanifold flipped degenerate <<<"$edges"

# count N WORD: "1 WORD" or "N WORDs".
count() {
  if (($1 == 1)); then
    printf '%s %s\n' "$1" "$2"
  else
    printf '%s %ss\n' "$1" "$2"
  fi
}

problems=()
((open == 0)) || problems+=("$(count "$open" "open edge")")
((nonmanifold == 0)) || problems+=("$(count "$nonmanifold" "non-manifold edge")")
((flipped == 0)) || problems+=("$(count "$flipped" "flipped edge")")
((degenerate == 0)) || problems+=("$(count "$degenerate" "degenerate triangle")")
if ((open + nonmanifold + flipped == 0)); then
  # The enclosed volume, as inspect_model computes it (6 x the sum of the
  # signed tetrahedra origin-a-b-c), is zero to the thousandth of a mm3.
  empty=$(LC_ALL=C awk '
    { v += $1 * ($5 * $9 - $6 * $8) - $2 * ($4 * $9 - $6 * $7) + $3 * ($4 * $8 - $5 * $7) }
    END { v /= 6; if (v < 0) v = -v; print (v < 0.0005 ? "true" : "false") }
  ' triangles.txt)
  [[ $empty == false ]] || problems+=("no enclosed volume")
fi

printable=true
list=''
for p in ${problems[@]+"${problems[@]}"}; do
  printable=false
  list+="${list:+, }$(json_str "$p")"
done
printf '{"printable": %s, "triangles": %s, "open_edges": %s, "nonmanifold_edges": %s, "flipped_edges": %s, "degenerate_triangles": %s, "problems": [%s]}\n' \
  "$printable" "$n" "$open" "$nonmanifold" "$flipped" "$degenerate" "$list" >"$JOBCTL_REPORT_DATA"

if [[ $printable == true ]]; then
  echo "$name: the mesh of $n triangles is printable"
else
  reason=$(printf '%s, ' "${problems[@]}")
  die "the mesh is not printable: ${reason%, }"
fi
