#!/usr/bin/env bash
# inspect_model: measure an ASCII STL model. stl_load (lib/sh/stl.sh) fetches
# the model and checks its syntax; this body does the geometry:
# - bounding box, and the dimensions (its size);
# - volume: the sum of the signed volumes of the tetrahedra formed by the
#   origin and each triangle, a.(b x c)/6, taken absolute (meaningful only
#   when the mesh is closed);
# - surface area: the sum of |(b-a) x (c-a)|/2;
# - closed: every edge shared by exactly two triangles that traverse it in
#   opposite directions (stl_edges, lib/sh/stl.sh).
# It only measures: a mesh that is not closed is reported (closed: false),
# not failed; check_mesh judges whether the mesh can be printed. Only a file
# that cannot be read as an ASCII STL fails.
set -euo pipefail

stl_load "${MODEL_URL:-}" model.stl triangles.txt
name=$(source_name "$MODEL_URL")

# One line out: n volume area minx miny minz maxx maxy maxz sx sy sz
stats=$(LC_ALL=C awk '
  function fmt(x, decimals, s) {
    s = sprintf("%." decimals "f", x)
    if (s ~ /[.]/) { sub(/0+$/, "", s); sub(/[.]$/, "", s) }
    if (s == "-0") s = "0"
    return s
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
  }
  END {
    vol = vol6 / 6
    if (vol < 0) vol = -vol
    printf "%d %s %s", NR, fmt(vol, 3), fmt(area2 / 2, 3)
    for (c = 0; c < 3; c++) printf " %s", fmt(lo[c], 6)
    for (c = 0; c < 3; c++) printf " %s", fmt(hi[c], 6)
    for (c = 0; c < 3; c++) printf " %s", fmt(hi[c] - lo[c], 6)
    printf "\n"
  }
' triangles.txt)
read -r n volume area minx miny minz maxx maxy maxz sx sy sz <<<"$stats"

# Degenerate triangles do not open the mesh; check_mesh counts them.
edges=$(stl_edges triangles.txt)
read -r open nonmanifold flipped _ <<<"$edges"
closed=true
if ((open + nonmanifold + flipped > 0)); then
  closed=false
fi

printf '{"triangles": %s, "bbox": {"min": [%s, %s, %s], "max": [%s, %s, %s], "size": [%s, %s, %s]}, "dimensions": {"x": %s, "y": %s, "z": %s}, "volume_mm3": %s, "surface_area_mm2": %s, "closed": %s}\n' \
  "$n" "$minx" "$miny" "$minz" "$maxx" "$maxy" "$maxz" "$sx" "$sy" "$sz" "$sx" "$sy" "$sz" "$volume" "$area" "$closed" \
  >"$JOBCTL_REPORT_DATA"

echo "$name: $n triangles, $sx x $sy x $sz mm, volume $volume mm3, surface $area mm2"
if [[ $closed == true ]]; then
  echo "the mesh is closed"
else
  echo "the mesh is not closed ($open open, $nonmanifold non-manifold, $flipped flipped edges): the volume is not meaningful"
fi
