#!/usr/bin/env bash
# render_thumbnail: an orthographic top view of the model as SVG. Each
# triangle is projected onto XY; triangles are painted from the lowest mean Z
# to the highest (painter's algorithm) and shaded by the Z part of their
# normal, so faces looking up are bright and steep ones dark. Triangles seen
# edge-on (vertical walls) cover no area and are left out.
set -euo pipefail

size=${SIZE:-256}
[[ $size =~ ^[0-9]+$ ]] && ((10#$size >= 16 && 10#$size <= 4096)) ||
  die "SIZE must be a whole number of pixels from 16 to 4096, found '$size'"
size=$((10#$size))
out=thumbnail.svg

stl_load "${MODEL_URL:-}" model.stl triangles.txt

# Pass 1 (first read of the file): the XY bounding box, to fit the drawing.
# Pass 2: one line per visible triangle, "meanZ r g b x1 y1 x2 y2 x3 y3" in
# pixels, then sorted by mean Z.
LC_ALL=C awk -v size="$size" '
  NR == FNR {
    for (i = 1; i <= 9; i += 3) {
      if (NR == 1 && i == 1) { minx = maxx = $1 + 0; miny = maxy = $2 + 0 }
      if ($i + 0 < minx) minx = $i + 0
      if ($i + 0 > maxx) maxx = $i + 0
      if ($(i + 1) + 0 < miny) miny = $(i + 1) + 0
      if ($(i + 1) + 0 > maxy) maxy = $(i + 1) + 0
    }
    next
  }
  FNR == 1 {
    pad = size * 0.05
    w = maxx - minx; h = maxy - miny
    span = w > h ? w : h
    scale = span > 0 ? (size - 2 * pad) / span : 1
    ox = (size - w * scale) / 2
    oy = (size - h * scale) / 2
  }
  {
    ux = $4 - $1; uy = $5 - $2; uz = $6 - $3
    vx = $7 - $1; vy = $8 - $2; vz = $9 - $3
    nx = uy * vz - uz * vy; ny = uz * vx - ux * vz; nz = ux * vy - uy * vx
    len = sqrt(nx * nx + ny * ny + nz * nz)
    if (len == 0) next
    up = (nz < 0 ? -nz : nz) / len
    if (up < 1e-6) next
    light = 0.35 + 0.65 * up
    printf "%.6f %d %d %d", ($3 + $6 + $9) / 3, 70 * light + 0.5, 130 * light + 0.5, 180 * light + 0.5
    for (i = 1; i <= 9; i += 3)
      printf " %.1f %.1f", ox + ($i - minx) * scale, oy + (maxy - $(i + 1)) * scale
    printf "\n"
  }
' triangles.txt triangles.txt | LC_ALL=C sort -s -n -k1,1 >polygons.txt

LC_ALL=C awk -v size="$size" '
  BEGIN {
    q = "\047"
    printf "<svg xmlns=%shttp://www.w3.org/2000/svg%s width=%s%d%s height=%s%d%s viewBox=%s0 0 %d %d%s>\n", \
      q, q, q, size, q, q, size, q, q, size, size, q
    # Each polygon is also stroked in its own colour, to close hairline seams.
    printf "<g stroke-width=%s0.5%s stroke-linejoin=%sround%s>\n", q, q, q, q
  }
  {
    colour = sprintf("#%02x%02x%02x", $2, $3, $4)
    printf "<polygon points=%s%s,%s %s,%s %s,%s%s fill=%s%s%s stroke=%s%s%s/>\n", \
      q, $5, $6, $7, $8, $9, $10, q, q, colour, q, q, colour, q
  }
  END { print "</g>"; print "</svg>" }
' polygons.txt >"$out"

polygons=$(wc -l <polygons.txt)
polygons=$((polygons + 0))
bytes=$(file_size "$out")
svg=''
if ((bytes <= 65536)); then
  svg=$(cat "$out" && echo .) # the dot keeps the final newline
  svg=", \"svg\": $(json_str "${svg%.}")"
fi
printf '{"path": %s, "width": %d, "height": %d, "polygons": %d%s}\n' \
  "$(json_str "$out")" "$size" "$size" "$polygons" "$svg" >"$JOBCTL_REPORT_DATA"
echo "wrote $out: $size x $size px, $polygons polygons, $bytes bytes"
