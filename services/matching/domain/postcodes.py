"""UK postcodes: a home's full postcode is kept (it is an address, not a child's); the district
(outward code) is what distance is measured from."""
from __future__ import annotations

import re

_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")


class InvalidPostcode(ValueError):
    pass


def normalise(postcode: str) -> tuple[str, str]:
    """('LE4 6AB', 'LE4') from any spacing or case."""
    compact = re.sub(r"\s+", "", postcode or "").upper()
    m = _POSTCODE.match(compact)
    if not m:
        raise InvalidPostcode(f"{postcode!r} is not a UK postcode such as LE4 6AB")
    return f"{m.group(1)} {m.group(2)}", m.group(1)
