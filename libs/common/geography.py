"""Where a child's home area is, and how far a home is from it: postcode district centroids shipped with the
project (data/postcode_districts.csv, see data/README.md; nothing fetched), one module for every service that
measures distance (matching's ranking, outcomes' sufficiency report, the SSDA903 PL_DISTANCE). Pure.

A district missing from the data falls back to its postcode area's centroid (the mean of the area's
districts); an area not in the data gives None ("distance unknown").
"""
from __future__ import annotations

import csv
import math
import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "postcode_districts.csv"
EARTH_RADIUS_KM = 6371.0088
_AREA = re.compile(r"^[A-Z]{1,2}")


@lru_cache(maxsize=1)
def centroids() -> tuple[dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
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
    areas = {a: (round(s[0] / s[2], 5), round(s[1] / s[2], 5)) for a, s in sums.items()}
    return districts, areas


def locate(outward_code: str | None) -> tuple[float, float] | None:
    if not outward_code:
        return None
    code = outward_code.strip().upper()
    districts, areas = centroids()
    if code in districts:
        return districts[code]
    # sub-districts such as EC1A or W1T share their district's centroid (EC1, W1)
    if code[:-1] in districts and code[-1].isalpha():
        return districts[code[:-1]]
    m = _AREA.match(code)
    return areas.get(m.group(0)) if m else None


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def distance_km(from_outward: str | None, to_outward: str | None) -> float | None:
    a, b = locate(from_outward), locate(to_outward)
    if a is None or b is None:
        return None
    return round(haversine_km(a, b), 1)


def outside_area(a_code: str | None, b_code: str | None) -> bool | None:
    """Whether two outward codes lie in different postcode areas (the letters: LE, NG, B); None if unknown."""
    if not a_code or not b_code:
        return None
    a, b = _AREA.match(a_code.strip().upper()), _AREA.match(b_code.strip().upper())
    return None if a is None or b is None else a.group(0) != b.group(0)
