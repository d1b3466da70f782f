"""UK postcodes: tidy what people type into the one form the Royal Mail uses, and tell a real shape from a typo."""

import re

# Outward code (area, district, optional sub-district) and inward code (sector digit, two unit letters), plus the
# special GIR 0AA. The inward letters never include C, I, K, M, O or V.
_POSTCODE = re.compile(
    r"^(?:GIR0AA|(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def normalise(raw: str) -> str:
    """Upper-case, drop spaces, and put one space before the inward code: " b11aa " → "B1 1AA"."""
    compact = re.sub(r"\s+", "", raw or "").upper()
    if len(compact) < 5:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def is_valid(postcode: str) -> bool:
    """Whether `postcode` (normalised or not) has the shape of a UK postcode."""
    return bool(_POSTCODE.match(re.sub(r"\s+", "", postcode or "").upper()))
