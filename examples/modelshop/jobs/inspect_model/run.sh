#!/usr/bin/env bash
# inspect_model: measure an ASCII STL model. stl_load (lib/sh/stl.sh) fetches
# the model and checks its syntax; this body does the geometry:
# - bounding box;
# - volume: the sum of the signed volumes of the tetrahedra formed by the
#   origin and each triangle, a.(b x c)/6, taken absolute;
# - surface area: the sum of |(b-a) x (c-a)|/2;
# - closedness: every edge, keyed by its two vertices' coordinates, must be
#   shared by exactly two triangles, which must traverse it in opposite
#   directions (otherwise the volume is meaningless).
set -euo pipefail

stl_load "${MODEL_URL:-}" model.stl triangles.txt
name=$(source_name "$MODEL_URL")

# One line out: n volume area minx miny minz maxx maxy maxz sx sy sz open nonmanifold flipped
stats=$(LC_ALL=C awk '
  function fmt(x, decimals, s) {
    s = sprintf("%." decimals "f", x)
    if (s ~ /[.]/) { sub(/0+$/, "", s); sub(/[.]$/, "", s) }
    if (s == "-0") s = "0"
    return s
  }
  function edge(p, r) {
    if (p == r) return
    if (p < r) { k = p "|" r; d = 1 } else { k = r "|" p; d = -1 }
    uses[k]++
    dir[k] += d
  }
  {
    ax = $1; ay = $2; az = $3; bx = $4; by = $5; bz = $6; cx = $7; cy = $8; cz = $9
    for (i = 1; i <= 9; i++) {
      c = (i - 1) % 3
      if (NR == 1 && i <= 3) { lo[c] = $i + 0; hi[c] = $i + 0 }
      if ($i + 0 < lo[c]) lo[c] = $i + 0
      if ($i + 0 > hi[c]) hi[c] = $i + 0
    }
    # signed volume of the tetrahedron (origin, a, b, c), times 6
    vol6 += ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx)
    ux = bx - ax; uy = by - ay; uz = bz - az
    vx = cx - ax; vy = cy - ay; vz = cz - az
    nx = uy * vz - uz * vy; ny = uz * vx - ux * vz; nz = ux * vy - uy * vx
    area2 += sqrt(nx * nx + ny * ny + nz * nz)
    a = $1 " " $2 " " $3; b = $4 " " $5 " " $6; c = $7 " " $8 " " $9
    edge(a, b); edge(b, c); edge(c, a)
  }
  END {
    for (k in uses) {
      if (uses[k] == 1) open++
      else if (uses[k] > 2) nonmanifold++
      else if (dir[k] != 0) flipped++
    }
    vol = vol6 / 6
    if (vol < 0) vol = -vol
    printf "%d %s %s", NR, fmt(vol, 3), fmt(area2 / 2, 3)
    for (c = 0; c < 3; c++) printf " %s", fmt(lo[c], 6)
    for (c = 0; c < 3; c++) printf " %s", fmt(hi[c], 6)
    for (c = 0; c < 3; c++) printf " %s", fmt(hi[c] - lo[c], 6)
    printf " %d %d %d\n", open, nonmanifold, flipped
  }
' triangles.txt)
read -r n volume area minx miny minz maxx maxy maxz sx sy sz open nonmanifold flipped <<<"$stats"

echo "$name: $n triangles, $sx x $sy x $sz mm, volume $volume mm3, surface $area mm2"
if ((open > 0)); then
  die "model is not closed: $open open edges"
fi
if ((nonmanifold > 0)); then
  die "model is not manifold: $nonmanifold edges are shared by more than two triangles"
fi
if ((flipped > 0)); then
  die "model has inconsistently oriented triangles: $flipped edges are traversed the same way by both their triangles"
fi
if [[ $volume == 0 ]]; then
  die "model encloses no volume"
fi

printf '{"triangles": %s, "bbox": {"min": [%s, %s, %s], "max": [%s, %s, %s], "size": [%s, %s, %s]}, "volume_mm3": %s, "surface_area_mm2": %s, "closed": true}\n' \
  "$n" "$minx" "$miny" "$minz" "$maxx" "$maxy" "$maxz" "$sx" "$sy" "$sz" "$volume" "$area" \
  >"$JOBCTL_REPORT_DATA"
