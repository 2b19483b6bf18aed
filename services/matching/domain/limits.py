"""Hard limits: a home failing one never appears in the ranking. Checked in this order, and the
first that fails names the reason (the answer counts how many homes each limit excluded)."""
from __future__ import annotations

from .model import Child, Home
from .rules import RuleSet

HARD_LIMITS = ("not_live", "not_matchable", "age_outside_registration", "sex_not_registered",
               "needs_beyond_registration", "no_free_pathway_bed", "phase_1_limit")


def required_categories(child: Child, rules: RuleSet) -> frozenset[str]:
    cats = frozenset(rules.category_for(c) for c in child.code_set)
    return cats or frozenset({rules.need_categories["default"]})


def is_matchable(home: Home) -> bool:
    """A suspended registration or an Inadequate rating takes a home out of matching at once."""
    return home.registration_status == "registered" and home.ofsted_rating != "inadequate"


def failed_limit(child: Child, home: Home, rules: RuleSet, required: frozenset[str] | None = None) -> str | None:
    if not home.live:
        return "not_live"
    if not is_matchable(home):
        return "not_matchable"
    if not home.age_min <= child.age <= home.age_max:
        return "age_outside_registration"
    if child.sex not in home.sexes:
        return "sex_not_registered"
    if not (required if required is not None else required_categories(child, rules)) <= home.categories:
        return "needs_beyond_registration"
    if not home.pathway_bed_free:
        return "no_free_pathway_bed"
    if home.in_phase_1 >= home.phase_1_limit:
        return "phase_1_limit"
    return None
