#!/usr/bin/env bash
# check_printability: does a model of SIZE_X x SIZE_Y x SIZE_Z mm fit the
# build volume of PRINTER? The model may be turned 90 degrees about Z (X and
# Y swapped), not tipped over. When it does not fit, the body writes its data
# (fits: false, reason) and then fails with the reason.
set -euo pipefail

printer=${PRINTER:-mk4}
case $printer in
  mk4) bx=250 by=210 bz=220 ;;
  xl) bx=360 by=360 bz=360 ;;
  mini) bx=180 by=180 bz=180 ;;
  *) require_choice PRINTER "$printer" mk4 xl mini ;;
esac
require_number SIZE_X "${SIZE_X:-}"
require_number SIZE_Y "${SIZE_Y:-}"
require_number SIZE_Z "${SIZE_Z:-}"

# Prints: fits rotated sx sy sz reason-words...
verdict=$(LC_ALL=C awk -v x="$SIZE_X" -v y="$SIZE_Y" -v z="$SIZE_Z" \
  -v bx="$bx" -v by="$by" -v bz="$bz" -v printer="$printer" '
  function fmt(v, s) {
    s = sprintf("%.6f", v)
    sub(/0+$/, "", s); sub(/[.]$/, "", s)
    return s
  }
  function over(v, limit) { return v > limit ? v - limit : 0 }
  # excess(a, b): how much a model of a x b x z overshoots, per axis, into ex[]
  function excess(a, b) {
    ex["X"] = over(a, bx); ex["Y"] = over(b, by); ex["Z"] = over(z, bz)
    return ex["X"] + ex["Y"] + ex["Z"]
  }
  BEGIN {
    x += 0; y += 0; z += 0
    size = fmt(x) " " fmt(y) " " fmt(z)
    if (excess(x, y) == 0) { print "true false " size; exit }
    if (excess(y, x) == 0) { print "true true " size; exit }
    rotated = excess(y, x) < excess(x, y)
    excess(rotated ? y : x, rotated ? x : y)
    by_axis = ""
    n = split("X Y Z", axes, " ")
    for (i = 1; i <= n; i++) {
      a = axes[i]
      if (ex[a] > 0) by_axis = by_axis (by_axis == "" ? "" : ", ") fmt(ex[a]) " mm in " a
    }
    printf "false false %s model (%s x %s x %s mm) does not fit the %s (%s x %s x %s mm): too large by %s%s\n", \
      size, fmt(x), fmt(y), fmt(z), printer, bx, by, bz, by_axis, \
      rotated ? ", even turned 90 degrees about Z" : ""
  }')
read -r fits rotated sx sy sz reason <<<"$verdict"

if [[ $fits == true ]]; then
  how="as placed"
  [[ $rotated == false ]] || how="turned 90 degrees about Z"
  printf '{"fits": true, "printer": %s, "build_volume": {"x": %s, "y": %s, "z": %s}, "rotated": %s}\n' \
    "$(json_str "$printer")" "$bx" "$by" "$bz" "$rotated" >"$JOBCTL_REPORT_DATA"
  echo "model ($sx x $sy x $sz mm) fits the $printer ($bx x $by x $bz mm) $how"
else
  printf '{"fits": false, "printer": %s, "build_volume": {"x": %s, "y": %s, "z": %s}, "rotated": false, "reason": %s}\n' \
    "$(json_str "$printer")" "$bx" "$by" "$bz" "$(json_str "$reason")" >"$JOBCTL_REPORT_DATA"
  die "$reason"
fi
