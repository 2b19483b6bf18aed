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


def sex_fits(sex: str, sexes) -> bool:
    """A child of unknown sex (SSDA903 U) fits only a home registered for both."""
    if sex == "unknown":
        return {"female", "male"} <= set(sexes)
    return sex in sexes


def is_matchable(home: Home) -> bool:
    """A suspended registration or an Inadequate rating takes a home out of matching at once."""
    return home.registration_status == "registered" and home.ofsted_rating != "inadequate"


def missing_categories(child: Child, home: Home, rules: RuleSet) -> dict[str, list[str]]:
    """The registered categories the home lacks, each with the child's needs and risks that call for it."""
    out: dict[str, list[str]] = {}
    for code in child.sorted_codes:
        category = rules.category_for(code)
        if category not in home.categories:
            out.setdefault(category, []).append(code)
    if not child.code_set and rules.need_categories["default"] not in home.categories:
        out[rules.need_categories["default"]] = []
    return out


def explain_limit(limit: str, child: Child, home: Home, rules: RuleSet) -> dict:
    """Why a hard limit excluded a home, naming the need, age, sex or limit: {limit, detail[, needs]}."""
    if limit == "not_live":
        return {"limit": limit, "detail": "the home is still onboarding"}
    if limit == "not_matchable":
        why = ("its registration is " + home.registration_status if home.registration_status != "registered"
               else "its latest Ofsted rating is inadequate")
        return {"limit": limit, "detail": f"out of matching: {why}"}
    if limit == "age_outside_registration":
        return {"limit": limit, "detail": f"the child is {child.age}; the home is registered for ages "
                                          f"{home.age_min} to {home.age_max}"}
    if limit == "sex_not_registered":
        extra = "; a child whose sex is unknown needs a home registered for both" if child.sex == "unknown" else ""
        return {"limit": limit, "detail": f"the home is registered for {' and '.join(sorted(home.sexes))} only{extra}"}
    if limit == "needs_beyond_registration":
        missing = missing_categories(child, home, rules)
        needs = sorted({c for codes in missing.values() for c in codes})
        parts = [f"{', '.join(codes) or 'any need'} calls for {category}" for category, codes in sorted(missing.items())]
        return {"limit": limit, "needs": needs, "categories": sorted(missing),
                "detail": "not registered for the child's needs: " + "; ".join(parts)}
    if limit == "no_free_pathway_bed":
        return {"limit": limit, "detail": "the home's Pathway Bed is reserved or occupied (or it has none)"}
    if limit == "phase_1_limit":
        return {"limit": limit, "detail": f"{home.in_phase_1} child(ren) already in Phase 1; the home's limit is "
                                          f"{home.phase_1_limit}"}
    return {"limit": limit, "detail": limit}


def failed_limit(child: Child, home: Home, rules: RuleSet, required: frozenset[str] | None = None) -> str | None:
    if not home.live:
        return "not_live"
    if not is_matchable(home):
        return "not_matchable"
    if not home.age_min <= child.age <= home.age_max:
        return "age_outside_registration"
    if not sex_fits(child.sex, home.sexes):
        return "sex_not_registered"
    if not (required if required is not None else required_categories(child, rules)) <= home.categories:
        return "needs_beyond_registration"
    if not home.pathway_bed_free:
        return "no_free_pathway_bed"
    if home.in_phase_1 >= home.phase_1_limit:
        return "phase_1_limit"
    return None
