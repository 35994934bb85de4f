"""The platform API's pricing core: what a print costs."""

SETUP_FEE = 5.0
RATES = {"pla": 0.05, "petg": 0.06, "resin": 0.12}  # EUR per gram
DENSITY = {"pla": 1.24, "petg": 1.27, "resin": 1.10}  # g per cm3


def price(volume_mm3, material="pla", rush=False):
    """Returns the price in EUR of printing volume_mm3 of material."""
    if material not in RATES:
        raise ValueError("unknown material %r" % material)
    if volume_mm3 < 0:
        raise ValueError("negative volume")
    grams = volume_mm3 / 1000.0 * DENSITY[material]
    total = round(SETUP_FEE + grams * RATES[material], 2)
    if rush:
        total *= 1.5
    return round(total, 2)
