#!/usr/bin/env bash
# price_model: price = setup fee + material cost, times 1.5 for rush orders.
#   material cost = volume (cm3) x density (g/cm3) x rate (EUR/g)
# Amounts are rounded half up to the cent, the material cost before it is
# added, so the breakdown adds up exactly.
set -euo pipefail

setup_fee=5.00
material=${MATERIAL:-pla}
case $material in
  pla) density=1.24 rate=0.05 ;;
  petg) density=1.27 rate=0.06 ;;
  resin) density=1.10 rate=0.15 ;;
  *) require_choice MATERIAL "$material" pla petg resin ;;
esac
require_number VOLUME_MM3 "${VOLUME_MM3:-}"
rush=$(parse_bool RUSH "${RUSH:-false}")
# More than a cubic metre is a unit mix-up, not an order (and would
# overflow the cent arithmetic).
if LC_ALL=C awk -v v="$VOLUME_MM3" 'BEGIN { exit !(v + 0 > 1e9) }'; then
  die "VOLUME_MM3 is too large: $VOLUME_MM3 mm3 is more than a cubic metre"
fi

# Prints: price volume_cm3 mass_g material_cost subtotal rush_factor
# Money is computed in whole cents.
read -r price volume_cm3 mass_g material_cost subtotal factor <<<"$(LC_ALL=C awk \
  -v mm3="$VOLUME_MM3" -v density="$density" -v rate="$rate" -v setup="$setup_fee" -v rush="$rush" '
  function cents(eur) { return int(eur * 100 + 0.5 + 1e-7) }
  function money(c) { return sprintf("%d.%02d", int(c / 100), c % 100) }
  function fmt(v, s) {
    s = sprintf("%.6f", v)
    sub(/0+$/, "", s); sub(/[.]$/, "", s)
    return s
  }
  BEGIN {
    cm3 = mm3 / 1000
    mass = cm3 * density
    material = cents(mass * rate)
    subtotal = cents(setup) + material
    factor = rush == "true" ? 1.5 : 1
    total = rush == "true" ? int((subtotal * 3 + 1) / 2) : subtotal
    print money(total), fmt(cm3), sprintf("%.2f", mass), money(material), money(subtotal), factor
  }')"

printf '{"price": %s, "currency": "EUR", "breakdown": {"setup_fee": %s, "material": %s, "volume_cm3": %s, "density_g_cm3": %s, "mass_g": %s, "rate_eur_per_g": %s, "material_cost": %s, "subtotal": %s, "rush": %s, "rush_factor": %s}}\n' \
  "$price" "$setup_fee" "$(json_str "$material")" "$volume_cm3" "$density" "$mass_g" "$rate" "$material_cost" "$subtotal" "$rush" "$factor" \
  >"$JOBCTL_REPORT_DATA"
how="$setup_fee setup + $material_cost material"
[[ $rush == false ]] || how="($how) x $factor rush"
echo "price: $price EUR = $how ($material, $volume_cm3 cm3, $mass_g g)"
