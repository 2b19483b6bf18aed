"""The impact risk assessment: hard limits first, then a scored, explained, deterministic ranking.

Scores are penalties (lower ranks first). The order is total: rating, then score, then home id, so
the same inputs give the same answer byte for byte.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from datetime import date, datetime
from typing import Iterable

from libs.common.ages import age_on

from .distance import distance_km
from .limits import HARD_LIMITS, explain_limit, failed_limit, required_categories
from .model import RATING_ORDER, Child, Home, Resident
from .rules import PairRule, RuleSet


@dataclass(frozen=True)
class FiredRule:
    rule: PairRule
    score: int
    holder: str  # "new_child" or "resident": who holds the rule's `a` factor


@dataclass(frozen=True)
class ResidentRisk:
    resident: Resident
    fired: tuple[FiredRule, ...]

    @property
    def score(self) -> int:
        return sum(f.score for f in self.fired)


@dataclass(frozen=True)
class Option:
    """One ranked home. The numbers are computed for every candidate; the explained terms (strings)
    only for the options an answer shows."""

    new: Child
    home: Home
    rules: RuleSet
    rating: str
    score: float
    impact: int
    group: int
    resident_risks: tuple[ResidentRisk, ...]
    distance_km: float | None
    points: tuple[float, ...]  # resident_risks, group_make_up, distance, specialism, ofsted, requirements
    factors: tuple["Factor", ...] = ()

    @cached_property
    def terms(self) -> tuple[dict, ...]:
        return _explain(self)

    @cached_property
    def mitigations(self) -> tuple[str, ...]:
        rules = self.rules
        out = set(rules.mitigations_always)
        if self.home.residents:
            out.update(rules.mitigations_with_residents)
        out.update(f.rule.mitigation for r in self.resident_risks for f in r.fired)
        out.update(f.mitigation for f in self.factors if f.mitigation)
        out.update(requirement_mitigations(self.new, rules))
        return tuple(sorted(out))

    @property
    def sort_key(self) -> tuple:
        return (RATING_ORDER[self.rating], self.score, self.home.id)


def _scaled(rule: PairRule, severity: str, rules: RuleSet) -> int:
    return int(rule.score * rules.severity_factor.get(severity, 1.0) + 0.5)


def pair_risks(new: Child, resident: Child, rules: RuleSet) -> tuple[FiredRule, ...]:
    """Every rule that fires between the new child and one resident, in either direction."""
    fired: dict[str, FiredRule] = {}
    by_a = rules.by_a
    for holder, a, b in (("new_child", new, resident), ("resident", resident, new)):
        b_codes = b.code_set
        for code in a.sorted_codes:
            for rule in by_a.get(code, ()):
                if rule.matches_b(b_codes) and rule.applies(a.age, b.age):
                    candidate = FiredRule(rule, _scaled(rule, a.severity(code), rules), holder)
                    current = fired.get(rule.id)
                    if current is None or candidate.score > current.score:
                        fired[rule.id] = candidate
    return tuple(sorted(fired.values(), key=lambda f: (-f.score, f.rule.id)))


def group_score(new: Child, home: Home, rules: RuleSet) -> int:
    g = rules.group
    outside_gap = sum(1 for r in home.residents if abs(r.child.age - new.age) > g["age_gap_years"])
    return (g["per_resident"] * len(home.residents) + g["per_resident_in_phase_1"] * home.in_phase_1
            + g["per_resident_outside_age_gap"] * outside_gap)


def impact_of(new: Child, home: Home, rules: RuleSet) -> tuple[int, bool, tuple[ResidentRisk, ...], int]:
    """The impact score (pair risks plus the group's make-up), never lowered by adding a resident."""
    risks = tuple(ResidentRisk(r, pair_risks(new, r.child, rules))
                  for r in sorted(home.residents, key=lambda r: r.placement_id))
    group = group_score(new, home, rules)
    pairs = sum(r.score for r in risks)
    unacceptable = any(f.rule.unacceptable for r in risks for f in r.fired)
    return pairs + group, unacceptable, risks, group


def rating_for(impact: int, unacceptable: bool, rules: RuleSet) -> str:
    t = rules.thresholds
    if unacceptable or impact >= t["unacceptable"]:
        return "unacceptable"
    if impact >= t["high"]:
        return "high"
    if impact >= t["medium"]:
        return "medium"
    return "low"


def _term(name: str, points: float, weight: float, reason: str) -> dict:
    return {"term": name, "points": round(points, 2), "weight": weight, "weighted": round(points * weight, 2),
            "reason": reason}


TERM_WEIGHTS = ("impact", "impact", "distance", "specialism", "ofsted", "requirements")


@dataclass(frozen=True)
class Factor:
    """One of the child's placement requirements that the home meets only in part: its points and why."""
    name: str
    points: int
    reason: str
    mitigation: str | None = None


_SUPPORT = {"esol": "ESOL", "bsl": "BSL", "makaton": "Makaton", "other": "other communication"}


def requirement_factors(new: Child, home: Home, rules: RuleSet) -> tuple[Factor, ...]:
    """The explained factors of the child's placement requirements against the home (the hard ones are limits)."""
    req, pts = new.requirements, rules.requirement_points or {}
    if not pts:
        return ()
    out = []
    if home.pets and "harm_to_animals" in new.code_set:
        out.append(Factor("harm_to_animals_with_pets", pts.get("harm_to_animals_with_pets", 0),
                          "the child is a risk to animals and the home has pets",
                          (rules.requirement_mitigations or {}).get("harm_to_animals_with_pets")))
    if req is None:
        return tuple(out)
    if home.pets and req.pets == "not_known":
        out.append(Factor("pets_not_known", pts.get("pets_not_known", 0),
                          "the home has pets; whether the child can live with them is not known",
                          (rules.requirement_mitigations or {}).get("pets_not_known")))
    missing = [c for c in req.communication_requirements if c not in ("none",) and c not in home.communication_support]
    if missing:
        out.append(Factor("communication_support_missing", pts.get("communication_support_missing", 0) * len(missing),
                          f"communication needs: the home lists no {', '.join(_SUPPORT.get(m, m) for m in missing)} support",
                          (rules.requirement_mitigations or {}).get("communication_support_missing")))
    if req.home_adaptation and not home.adapted:
        out.append(Factor("home_adaptation_missing", pts.get("home_adaptation_missing", 0),
                          "the child needs an adapted home; the home is not adapted",
                          (rules.requirement_mitigations or {}).get("home_adaptation_missing")))
    if req.living_companions == "with_other_children" and home.registered_places <= 1:
        out.append(Factor("company_recommended_single_place", pts.get("company_recommended_single_place", 0),
                          "living with other children is recommended; the home is registered for one child"))
    if req.residential_care_suitability == "suitable_not_preferred":
        out.append(Factor("residential_not_preferred", pts.get("residential_not_preferred", 0),
                          "residential care is suitable but not preferred for the child"))
    return tuple(out)


def requirement_mitigations(new: Child, rules: RuleSet) -> set[str]:
    """What the child's requirements call for in any home: additional support, a DoL order, cultural needs."""
    req, m = new.requirements, rules.requirement_mitigations or {}
    if req is None or not m:
        return set()
    out = set()
    if req.additional_support and req.additional_support != "none" and m.get(req.additional_support):
        out.add(m[req.additional_support])
    if req.deprivation_of_liberty and m.get("deprivation_of_liberty"):
        out.add(m["deprivation_of_liberty"])
    if req.cultural_needs in ("required", "other") and m.get("cultural_needs"):
        out.add(m["cultural_needs"])
    if req.sibling_count and m.get("siblings"):
        out.add(m["siblings"])
    return out


def score_home(new: Child, home: Home, rules: RuleSet) -> Option:
    w = {k: rules.weight(k) for k in TERM_WEIGHTS}
    impact, unacceptable, risks, group = impact_of(new, home, rules)
    km = distance_km(new.outward_code, home.outward_code)
    d = rules.distance
    distance = d["unknown"] if km is None else min(d["cap"], km / 10 * d["points_per_10_km"])
    code_set = new.code_set
    served = any(c in code_set for s in home.specialisms for c in rules.specialisms.get(s, ()))
    ofsted = rules.ofsted.get(home.ofsted_rating or "unrated", rules.ofsted["unrated"])
    factors = requirement_factors(new, home, rules)
    points = (impact - group, group, distance, rules.specialism_bonus if served else 0, ofsted,
              sum(f.points for f in factors))
    score = round(sum(round(round(p, 2) * w[k], 2) for p, k in zip(points, TERM_WEIGHTS)), 2)
    return Option(new=new, home=home, rules=rules, rating=rating_for(impact, unacceptable, rules), score=score,
                  impact=impact, group=group, resident_risks=risks, distance_km=km, points=points, factors=factors)


def _explain(o: Option) -> tuple[dict, ...]:
    new, home, rules = o.new, o.home, o.rules
    w = {k: rules.weight(k) for k in TERM_WEIGHTS}
    g = rules.group
    fired_count = sum(len(r.fired) for r in o.resident_risks)
    ages = ", ".join(str(a) for a in sorted(r.child.age for r in home.residents))
    outside_gap = sum(1 for r in home.residents if abs(r.child.age - new.age) > g["age_gap_years"])
    if o.distance_km is None:
        distance_reason = (f"distance unknown ({new.outward_code or 'no home area'} to "
                           f"{home.outward_code or 'unknown'}): neutral score")
    else:
        local = "local" if o.distance_km <= rules.distance["local_km"] else "not local"
        distance_reason = f"{o.distance_km} km from {new.outward_code} to {home.outward_code} ({local})"
    served = sorted((s, c) for s in home.specialisms for c in rules.specialisms.get(s, ()) if c in new.code_set)
    specialism_reason = ("specialism " + ", ".join(f"{s} serves {c}" for s, c in served) if served
                         else "no specialism of the home serves the child's needs")
    reasons = (
        f"{fired_count} risk interaction(s) with {len(o.resident_risks)} current resident(s)",
        (f"{len(home.residents)} resident(s) aged {ages}; {home.in_phase_1} in Phase 1; "
         f"{outside_gap} more than {g['age_gap_years']} years from the child's age {new.age}") if home.residents
        else "no current residents",
        distance_reason, specialism_reason, f"latest Ofsted rating: {home.ofsted_rating or 'unrated'}",
        "; ".join(f"{f.reason} (+{f.points})" for f in o.factors) if o.factors
        else "the home meets the child's placement requirements" if new.requirements
        else "no placement requirements stated")
    names = ("resident_risks", "group_make_up", "distance", "specialism", "ofsted", "requirements")
    return tuple(_term(n, p, w[k], r) for n, p, k, r in zip(names, o.points, TERM_WEIGHTS, reasons))


@dataclass(frozen=True)
class ImpactRiskAssessment:
    child: Child
    rules: RuleSet
    homes_considered: int
    excluded: dict[str, int]
    ranked: tuple[Option, ...]
    excluded_homes: tuple[tuple[Home, str], ...] = ()   # (home, the limit it failed), by home id

    def to_dict(self, *, limit: int | None = None) -> dict:
        options = self.ranked if limit is None else self.ranked[:limit]
        return {
            "referral_id": self.child.ref,
            "rules_version": self.rules.version,
            **self.rules.public_weights(),
            **score_scale(self.rules),
            "homes_considered": self.homes_considered,
            "homes_ranked": len(self.ranked),
            "excluded": dict(self.excluded),
            "exclusions": [{"home_id": h.id, "home_name": h.name, **explain_limit(lim, self.child, h, self.rules)}
                           for h, lim in self.excluded_homes[:MAX_EXCLUSIONS_SHOWN]],
            "options": [option_dict(i + 1, o) for i, o in enumerate(options)],
        }


MAX_EXCLUSIONS_SHOWN = 50


def score_scale(rules: RuleSet) -> dict:
    """How to read a score: its direction and its range under these rules (the best possible score is an
    empty home next door whose specialism serves the child and whose rating is the best; there is no worst:
    each resident risk adds points)."""
    w = rules.weights
    best = round(w["specialism"] * min(0, rules.specialism_bonus) + w["ofsted"] * min(rules.ofsted.values()), 2)
    return {
        "score_direction": "lower_is_better",
        "score_range": {"min": best, "max": None},
        "score_explained": (
            "An option's score is the sum of its terms' weighted points (terms[].weighted): resident risks and "
            "the group's make-up add points, distance adds up to its cap, placement requirements the home meets only in "
            "part add points, the Ofsted rating adds points below "
            "good (outstanding subtracts) and a specialism serving the child's needs subtracts. Lower is better; "
            f"{best} is the best possible, there is no upper bound. Options sort by rating (low, medium, high, "
            "unacceptable), then score, then home id. `impact` (resident risks plus group make-up, from 0) is "
            "read against rating_thresholds to give the rating."),
    }


def option_dict(rank: int, o: Option) -> dict:
    return {
        "rank": rank, "home_id": o.home.id, "home_name": o.home.name, "rating": o.rating, "score": o.score, "impact": o.impact,
        "distance_km": o.distance_km, "terms": list(o.terms),
        "resident_risks": [{
            "placement_id": r.resident.placement_id, "referral_id": r.resident.child.ref,
            "age": r.resident.child.age, "sex": r.resident.child.sex, "phase": r.resident.phase, "score": r.score,
            "risks": [{"rule": f.rule.id, "score": f.score, "holder": f.holder, "reason": f.rule.reason,
                       "mitigation": f.rule.mitigation, "unacceptable": f.rule.unacceptable} for f in r.fired],
        } for r in o.resident_risks],
        "mitigations": list(o.mitigations),
    }


def assess(child: Child, homes: Iterable[Home], rules: RuleSet) -> ImpactRiskAssessment:
    excluded = dict.fromkeys(HARD_LIMITS, 0)
    required = required_categories(child, rules)
    options = []
    excluded_homes = []
    considered = 0
    for home in homes:
        considered += 1
        limit = failed_limit(child, home, rules, required)
        if limit is not None:
            excluded[limit] += 1
            excluded_homes.append((home, limit))
            continue
        options.append(score_home(child, home, rules))
    options.sort(key=lambda o: o.sort_key)
    return ImpactRiskAssessment(child=child, rules=rules, homes_considered=considered, excluded=excluded,
                                ranked=tuple(options),
                                excluded_homes=tuple(sorted(excluded_homes, key=lambda e: e[0].id)[:MAX_EXCLUSIONS_SHOWN]))


def child_from(ref: str, date_of_birth: date, sex: str, needs: list[dict], risks: list[dict],
               outward_code: str | None, as_of: date, requirements: dict | None = None) -> Child:
    from .model import Requirements
    codes = tuple(sorted({(x["code"], x.get("severity", "medium")) for x in [*needs, *risks]}))
    return Child(ref=ref, age=age_on(date_of_birth, as_of), sex=sex, codes=codes, outward_code=outward_code,
                 requirements=Requirements.of(requirements))


def canonical(body: dict) -> bytes:
    """The answer's one serialisation: sorted keys, no whitespace (its id is the hash of these bytes)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def answer(assessment: ImpactRiskAssessment, *, referral_status: str, received_at: datetime, as_of: date,
           limit: int | None) -> dict:
    """The answer shown for a referral: no clock time, only the as_of date; its id is the SHA-256 of
    the rest, so the same inputs give the same id. `assessment_id` is the deprecated name of the id."""
    body = assessment.to_dict(limit=limit)
    body.update(referral_status=referral_status, received_at=received_at.isoformat(), as_of=as_of.isoformat())
    answer_id = hashlib.sha256(canonical(body)).hexdigest()
    return {"impact_risk_assessment_id": answer_id, "assessment_id": answer_id, **body}
