"""Hard limits: a home failing one never appears in the ranking. Checked in this order, and the
first that fails names the reason (the answer counts how many homes each limit excluded)."""
from __future__ import annotations

from .model import Child, Home
from .rules import RuleSet

HARD_LIMITS = ("not_live", "not_matchable", "age_outside_registration", "sex_not_registered",
               "needs_beyond_registration", "residential_care_unsuitable", "solo_placement_needed",
               "living_companions", "pets_in_home", "no_pets_in_home", "deprivation_of_liberty_not_accepted",
               "too_few_places_for_siblings", "no_free_pathway_bed", "phase_1_limit")
# the limits that come from the child's placement requirements (the Placements Data Standard's MUST fields and hard
# facts, issue 12); a child whose referral says nothing of them is never excluded by one
REQUIREMENT_LIMITS = HARD_LIMITS[5:12]


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


def _companion_clash(child: Child, home: Home) -> str | None:
    """Why the child and the home's current residents cannot live together by either side's living companions
    (None when they can)."""
    wants = child.requirements.living_companions if child.requirements else None
    if wants in ("older_children_only", "younger_children_only"):
        for r in home.residents:  # in placement id order (the snapshot keeps them so)
            if wants == "older_children_only" and r.child.age <= child.age:
                return (f"the child may live only with older children; a resident is {r.child.age} "
                        f"(the child {child.age})")
            if wants == "younger_children_only" and r.child.age >= child.age:
                return (f"the child may live only with younger children; a resident is {r.child.age} "
                        f"(the child {child.age})")
    for r in home.companion_rules:
        theirs = r.child.requirements.living_companions
        if theirs == "solo":
            return "a current resident must live alone (solo placement)"
        if theirs == "older_children_only" and child.age <= r.child.age:
            return f"a resident aged {r.child.age} may live only with older children (the child is {child.age})"
        if theirs == "younger_children_only" and child.age >= r.child.age:
            return f"a resident aged {r.child.age} may live only with younger children (the child is {child.age})"
    return None


def free_places(home: Home) -> int:
    return max(0, home.registered_places - len(home.residents))


def failed_requirement(child: Child, home: Home) -> str | None:
    """The first placement requirement of the child (or of a current resident) that the home cannot meet."""
    req = child.requirements
    if req is None and not home.companion_rules:
        return None
    if req is not None:
        if req.residential_care_suitability == "unsuitable":
            return "residential_care_unsuitable"
        if req.living_companions == "solo" and home.registered_places > 1:
            return "solo_placement_needed"
    if _companion_clash(child, home) is not None:
        return "living_companions"
    if req is None:
        return None
    if req.pets == "no_pets" and home.pets:
        return "pets_in_home"
    if req.pets == "must_live_with_pets" and not home.pets:
        return "no_pets_in_home"
    if req.deprivation_of_liberty and not home.accepts_deprivation_of_liberty:
        return "deprivation_of_liberty_not_accepted"
    if req.sibling_count and free_places(home) < req.sibling_count + 1:
        return "too_few_places_for_siblings"
    return None


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
    if limit == "residential_care_unsuitable":
        return {"limit": limit, "detail": "the referral says residential care is unsuitable for the child "
                                          "(residentialCareSuitability: Unsuitable)"}
    if limit == "solo_placement_needed":
        return {"limit": limit, "detail": f"the child must live alone (livingCompanions: Solo placement recommended); "
                                          f"the home is registered for {home.registered_places} children"}
    if limit == "living_companions":
        return {"limit": limit, "detail": _companion_clash(child, home) or "living companions"}
    if limit == "pets_in_home":
        return {"limit": limit, "detail": "the child cannot live with pets or animals (pets: No); the home has pets"}
    if limit == "no_pets_in_home":
        return {"limit": limit, "detail": "the child must live with pets (pets: Yes - must); the home has none"}
    if limit == "deprivation_of_liberty_not_accepted":
        return {"limit": limit, "detail": "the child is subject to a Deprivation of Liberty order; the home does not "
                                          "accept one"}
    if limit == "too_few_places_for_siblings":
        n = child.requirements.sibling_count if child.requirements else 0
        return {"limit": limit, "detail": f"the child is to be placed with {n} sibling(s): {n + 1} places needed, "
                                          f"the home has {free_places(home)} free"}
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
    if child.requirements is not None or home.companion_rules:  # most children and homes state none: no call
        requirement = failed_requirement(child, home)
        if requirement is not None:
            return requirement
    if not home.pathway_bed_free:
        return "no_free_pathway_bed"
    if home.in_phase_1 >= home.phase_1_limit:
        return "phase_1_limit"
    return None
