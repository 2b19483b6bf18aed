"""Distance from the child's home area to the home, between postcode district centroids shipped with the
service (data/postcode_districts.csv, the same file matching ships: services never import each other).
Whether a child is placed outside their own area: the postcode areas (the letters: LE, NG, B) differ; the
events carry no home's council, so the postcode area stands in for it (README, Decisions). Pure."""
from __future__ import annotations

import csv
import math
import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "postcode_districts.csv"
EARTH_RADIUS_KM = 6371.0088
_AREA = re.compile(r"^[A-Z]{1,2}")


@lru_cache(maxsize=1)
def _centroids() -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    districts: dict[str, tuple[float, float]] = {}
    with DATA.open(newline="") as f:
        for row in csv.DictReader(f):
            districts[row["district"].strip().upper()] = (float(row["latitude"]), float(row["longitude"]))
    sums: dict[str, list[float]] = {}
    for district, (lat, lon) in districts.items():
        m = _AREA.match(district)
        if m:
            s = sums.setdefault(m.group(0), [0.0, 0.0, 0])
            s[0] += lat
            s[1] += lon
            s[2] += 1
    return districts, {a: (s[0] / s[2], s[1] / s[2]) for a, s in sums.items()}


def _locate(code: str | None) -> tuple[float, float] | None:
    if not code:
        return None
    code = code.strip().upper()
    districts, areas = _centroids()
    if code in districts:
        return districts[code]
    if code[:-1] in districts and code[-1].isalpha():
        return districts[code[:-1]]
    m = _AREA.match(code)
    return areas.get(m.group(0)) if m else None


def distance_km(a_code: str | None, b_code: str | None) -> float | None:
    a, b = _locate(a_code), _locate(b_code)
    if a is None or b is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return round(2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h)), 1)


def outside_area(a_code: str | None, b_code: str | None) -> bool | None:
    if not a_code or not b_code:
        return None
    a, b = _AREA.match(a_code.strip().upper()), _AREA.match(b_code.strip().upper())
    return None if a is None or b is None else a.group(0) != b.group(0)
