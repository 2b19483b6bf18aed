"""The versioned rules file: pairs of risk factors, conditions, scores, reasons and mitigations.

Loaded once per version and indexed by code so that scoring a resident is a few dictionary look-ups.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
CURRENT_VERSION_FILE = "impact_rules_v2.yaml"  # v1 stays readable: decisions made under it name it
ANY = "*"


@dataclass(frozen=True)
class PairRule:
    id: str
    a: str
    b: str
    score: int
    reason: str
    mitigation: str
    unacceptable: bool = False
    a_older_by_at_least: int | None = None
    age_gap_at_least: int | None = None
    age_gap_at_most: int | None = None
    b_codes: frozenset[str] = frozenset()     # `b` as a set (a rule's b may list several codes: any of them)

    def matches_b(self, codes: frozenset[str]) -> bool:
        return self.b == ANY or not self.b_codes.isdisjoint(codes)

    def applies(self, a_age: int, b_age: int) -> bool:
        gap = abs(a_age - b_age)
        if self.a_older_by_at_least is not None and a_age - b_age < self.a_older_by_at_least:
            return False
        if self.age_gap_at_least is not None and gap < self.age_gap_at_least:
            return False
        if self.age_gap_at_most is not None and gap > self.age_gap_at_most:
            return False
        return True


@dataclass(frozen=True)
class RuleSet:
    version: str
    weights: dict[str, float]
    thresholds: dict[str, int]
    group: dict[str, int]
    distance: dict[str, float]
    ofsted: dict[str, int]
    specialism_bonus: int
    specialisms: dict[str, frozenset[str]]
    need_categories: dict[str, str]
    severity_factor: dict[str, float]
    mitigations_always: tuple[str, ...]
    mitigations_with_residents: tuple[str, ...]
    pairs: tuple[PairRule, ...]
    by_a: dict[str, tuple[PairRule, ...]]
    requirement_points: dict[str, int] = None  # type: ignore[assignment]  # v2: the requirements term's points
    requirement_mitigations: dict[str, str] = None  # type: ignore[assignment]

    def category_for(self, code: str) -> str:
        return self.need_categories.get(code, self.need_categories["default"])

    def public_weights(self) -> dict[str, Any]:
        """What an assessment carries so that it can be explained later."""
        return {"weights": dict(sorted(self.weights.items())), "rating_thresholds": dict(sorted(self.thresholds.items()))}

    def weight(self, term: str) -> float:
        return self.weights.get(term, 1.0)


def parse_rules(data: dict) -> RuleSet:
    pairs = []
    for raw in data["pairs"]:
        when = raw.get("when") or {}
        unknown = set(when) - {"a_older_by_at_least", "age_gap_at_least", "age_gap_at_most"}
        if unknown:
            raise ValueError(f"rule {raw['id']}: unknown conditions {sorted(unknown)}")
        if raw["score"] < 0:
            raise ValueError(f"rule {raw['id']}: scores are never negative (a resident never lowers risk)")
        a_codes = raw["a"] if isinstance(raw["a"], list) else [raw["a"]]
        b_codes = raw["b"] if isinstance(raw["b"], list) else [raw["b"]]
        pairs.append((a_codes, PairRule(id=raw["id"], a="|".join(a_codes), b="|".join(b_codes), score=int(raw["score"]),
                                        reason=raw["reason"], mitigation=raw["mitigation"],
                                        unacceptable=bool(raw.get("unacceptable", False)),
                                        b_codes=frozenset(b_codes), **when)))
    ids = [p.id for _, p in pairs]
    if len(ids) != len(set(ids)):
        raise ValueError("rule ids must be unique")
    if any(v < 0 for v in data["group"].values()):
        raise ValueError("group scores are never negative")
    requirements = data.get("requirements") or {}
    if any(v < 0 for v in (requirements.get("points") or {}).values()):
        raise ValueError("requirement points are never negative")
    by_a: dict[str, list[PairRule]] = {}
    for a_codes, p in pairs:
        for code in a_codes:
            by_a.setdefault(code, []).append(p)
    return RuleSet(
        version=data["version"], weights={k: float(v) for k, v in data["weights"].items()},
        thresholds={k: int(v) for k, v in data["rating_thresholds"].items()},
        group={k: int(v) for k, v in data["group"].items()},
        distance={k: float(v) for k, v in data["distance"].items()},
        ofsted={k: int(v) for k, v in data["ofsted"].items()}, specialism_bonus=int(data["specialism_bonus"]),
        specialisms={k: frozenset(v) for k, v in data["specialisms"].items()},
        need_categories=dict(data["need_categories"]),
        severity_factor={k: float(v) for k, v in data["severity_factor"].items()},
        mitigations_always=tuple(data["mitigations"]["always"]),
        mitigations_with_residents=tuple(data["mitigations"]["with_residents"]),
        pairs=tuple(p for _, p in pairs), by_a={k: tuple(v) for k, v in by_a.items()},
        requirement_points={k: int(v) for k, v in (requirements.get("points") or {}).items()},
        requirement_mitigations=dict(requirements.get("mitigations") or {}))


@lru_cache(maxsize=8)
def load_rules(filename: str = CURRENT_VERSION_FILE) -> RuleSet:
    return parse_rules(yaml.safe_load((RULES_DIR / filename).read_text()))
