"""Pure rules of a referral. No web or database imports."""
from __future__ import annotations

import re

# UK postcode: outward code (area + district) then inward code (sector + unit).
_POSTCODE = re.compile(r"^(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]?) ?([0-9][ABD-HJLNP-UW-Z]{2})$")
_OUTWARD = re.compile(r"^(GIR|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]?)$")


class InvalidPostcode(ValueError):
    pass


def outward_code(postcode: str) -> str:
    """The outward code of a full UK postcode ("le4 6ab" -> "LE4"). Only this part is ever stored,
    to keep the child's home area without their address."""
    normal = re.sub(r"\s+", " ", postcode.strip().upper())
    m = _POSTCODE.match(normal)
    if m:
        return "GIR" if m.group(1).startswith("GIR") else m.group(1)
    if _OUTWARD.match(normal):
        return normal
    raise InvalidPostcode(f"{postcode!r} is not a UK postcode")
