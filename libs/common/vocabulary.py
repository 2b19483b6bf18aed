"""The controlled vocabulary of a child's needs and risks, shared by every service that reads them.

A referral lists needs and risks by these codes, each with a severity; matching's impact risk
assessment reads the same codes. One list, here, so the two never drift. Codes are stable
identifiers (they travel in events and council integrations): add new ones, never rename or reuse.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["low", "medium", "high"]
SEVERITIES: tuple[str, ...] = ("low", "medium", "high")


@dataclass(frozen=True)
class Term:
    code: str
    label: str
    group: str  # for display and reporting: safety, behaviour, health, development, education, justice


_TERMS = [
    # exploitation_risk (CSE or CCE, undivided) was split in two (issue 12): see DEPRECATED below
    Term("sexual_exploitation_risk", "At risk of child sexual exploitation (CSE)", "safety"),
    Term("criminal_exploitation_risk", "At risk of child criminal exploitation (CCE, county lines)", "safety"),
    Term("exploits_others", "Exploits or grooms other children", "behaviour"),
    Term("missing_episodes", "Goes missing from home or care", "safety"),
    Term("self_harm", "Self-harm", "health"),
    Term("suicidal_ideation", "Suicidal ideation or attempts", "health"),
    Term("mental_health", "Mental health needs", "health"),
    Term("camhs_involvement", "Involved with CAMHS (child and adolescent mental health services)", "health"),
    Term("neurodiversity", "Neurodiversity (autism, ADHD)", "development"),
    Term("learning_disability", "Learning disability", "development"),
    Term("substance_misuse", "Substance misuse", "health"),
    Term("violence_to_others", "Violence towards other children or adults", "behaviour"),
    Term("violence_to_staff", "Violence towards staff or carers", "behaviour"),
    Term("sexualised_behaviour", "Sexualised behaviour", "behaviour"),
    Term("harmful_sexual_behaviour", "Harmful sexual behaviour towards others", "behaviour"),
    Term("fire_setting", "Fire-setting", "behaviour"),
    Term("youth_justice", "Involved with youth justice services", "justice"),
    Term("education_not_in_school", "Not in school or other education", "education"),
    Term("ehcp", "Has an education, health and care plan (EHCP)", "education"),
    Term("trauma", "Experience of trauma", "health"),
    Term("attachment_difficulties", "Attachment difficulties", "development"),
    Term("bullying_victim", "Victim of bullying", "safety"),
    Term("radicalisation_risk", "At risk of radicalisation", "safety"),
    # issue 12: the Placements Data Standard's risks the vocabulary lacked
    Term("eating_disorder", "Eating disorder", "health"),
    Term("harm_to_animals", "Risk of harm to animals", "behaviour"),
    Term("criminal_risk_to_others", "Risk to others: criminal exploitation of other children", "behaviour"),
    Term("other_risk_to_child", "Another risk to the child (the referral's text says which)", "safety"),
    Term("other_risk_to_others", "Another risk to others or property (the referral's text says which)", "behaviour"),
]

NEEDS_AND_RISKS: dict[str, Term] = {t.code: t for t in _TERMS}


# Retired codes, still accepted on input (and still decoded from old events): each stands for the codes it was
# split into. Never answered: a referral stores, answers and emits the codes it expands to.
DEPRECATED: dict[str, tuple[str, ...]] = {
    "exploitation_risk": ("sexual_exploitation_risk", "criminal_exploitation_risk"),
}


def is_known(code: str) -> bool:
    return code in NEEDS_AND_RISKS


def expand_deprecated(items: list[dict]) -> list[dict]:
    """A list of {code, severity} with each retired code replaced by the codes it was split into (same severity;
    a code already listed keeps its own). Order kept; idempotent."""
    listed = {i["code"] for i in items}
    out: list[dict] = []
    for item in items:
        if item["code"] not in DEPRECATED:
            out.append(item)
            continue
        for code in DEPRECATED[item["code"]]:
            if code not in listed:
                listed.add(code)
                out.append({**item, "code": code})
    return out


def label(code: str) -> str:
    return NEEDS_AND_RISKS[code].label


# --- homes: what a spoke home is registered for and specialises in --------------------------------------
# Ofsted's registered categories of need for a children's home. A child's needs call for categories (the
# mapping is matching's rules file, `need_categories`); a home registered for fewer is excluded from matching
# with the need named.
_CATEGORIES = [
    Term("emotional_behavioural_difficulties", "Emotional and behavioural difficulties", "registration"),
    Term("mental_disorders", "Mental disorders", "registration"),
    Term("learning_disability", "Learning disability", "registration"),
    Term("physical_disability", "Physical disability", "registration"),
    Term("sensory_impairment", "Sensory impairment", "registration"),
    Term("drug_alcohol_misuse", "Drug or alcohol misuse", "registration"),
]
REGISTRATION_CATEGORIES: dict[str, Term] = {t.code: t for t in _CATEGORIES}

# A home's specialisms: the needs each serves is matching's rules file (`specialisms`); a home listing one
# scores better for a child with those needs. Any other string is refused (a typo would never count).
_SPECIALISMS = [
    Term("youth_justice_step_down", "Step-down from youth justice or secure settings", "specialism"),
    Term("complex_mental_health", "Complex mental health needs", "specialism"),
    Term("child_exploitation", "Children at risk of or involved in exploitation", "specialism"),
    Term("harmful_sexual_behaviour", "Harmful or sexualised behaviour", "specialism"),
    Term("neurodiversity", "Neurodiverse children and learning disabilities", "specialism"),
    Term("trauma_informed", "Trauma-informed therapeutic care", "specialism"),
    Term("substance_misuse", "Substance misuse", "specialism"),
]
HOME_SPECIALISMS: dict[str, Term] = {t.code: t for t in _SPECIALISMS}


# --- outreach (issue 16): where a child referred for outreach lives now, what is at risk, team specialisms ---
# Where the child lives now (an outreach referral's current_setting; the same codes as the event contract's).
CURRENT_SETTINGS: dict[str, str] = {
    "own_home": "At home with family",
    "foster_care": "With a local authority foster carer",
    "ifa": "With an independent fostering agency's carer",
    "other_residential": "In another provider's children's home",
    "hospital": "In hospital, awaiting discharge",
    "step_down_destination": "In the next placement after a Pathway Bed (step-down)",
}

# What is at risk, that outreach works to keep (an outreach referral's at_risk). Codes, never free text.
_AT_RISK = [
    Term("placement_breakdown", "The child's current placement breaking down", "placement"),
    Term("family_breakdown", "The child no longer being able to live at home", "placement"),
    Term("school_place", "The child's school or college place", "education"),
    Term("hospital_discharge", "A safe discharge from hospital", "health"),
    Term("step_down_move", "The move out of a Pathway Bed into the next placement holding", "placement"),
    Term("residential_escalation", "A move into residential or secure care", "placement"),
    Term("custody", "Remand or custody", "justice"),
    Term("carer_resignation", "The carer giving notice", "placement"),
]
AT_RISK: dict[str, Term] = {t.code: t for t in _AT_RISK}
MAX_AT_RISK = 10  # more than the vocabulary holds: each code once

# An outreach team's specialisms: which of the child's needs and risks (NEEDS_AND_RISKS codes) each serves is
# matching's team ranking (services/matching/domain/teams.py); any other string is refused.
_OUTREACH_SPECIALISMS = [
    Term("child_sexual_exploitation", "Child sexual exploitation (CSE)", "outreach"),
    Term("child_criminal_exploitation", "Child criminal exploitation (CCE), county lines", "outreach"),
    Term("neurodiversity", "Neurodiverse children and learning disabilities", "outreach"),
    Term("self_harm", "Self-harm and suicidal ideation", "outreach"),
    Term("mental_health", "Mental health and CAMHS liaison", "outreach"),
    Term("harmful_sexual_behaviour", "Harmful or sexualised behaviour", "outreach"),
    Term("substance_misuse", "Substance misuse", "outreach"),
    Term("family_work", "Work with families and carers (attachment, trauma)", "outreach"),
    Term("education_engagement", "Getting back into school or college", "outreach"),
    Term("youth_justice", "Youth justice and violence", "outreach"),
]
OUTREACH_SPECIALISMS: dict[str, Term] = {t.code: t for t in _OUTREACH_SPECIALISMS}


# --- the SSDA903 (children looked after return) codes more than one service reads ---------------------------
# Looked-after children legal status codes (DfE SSDA903 "legal status" list).
LEGAL_STATUSES: dict[str, str] = {
    "C1": "Interim care order",
    "C2": "Full care order",
    "D1": "Freeing order granted",
    "E1": "Placement order granted",
    "J1": "Remanded to local authority accommodation or to youth detention accommodation",
    "J2": "Placed in local authority accommodation under the Police and Criminal Evidence Act 1984",
    "J3": "Sentenced to a youth rehabilitation order with residence or intensive fostering requirement",
    "L1": "Under police protection and in local authority accommodation",
    "L2": "Emergency protection order",
    "L3": "Under child assessment order and in local authority accommodation",
    "V2": "Single period of accommodation under section 20 (Children Act 1989)",
    "V3": "Accommodated under an agreed series of short-term breaks, when individual episodes are recorded",
    "V4": "Accommodated under an agreed series of short-term breaks, when agreements are recorded",
}

# A child's sex: the stored values, and the return's codes (M, F, U) that a referral may send instead. The
# 903 header file codes the same facts as 1 (male) and 2 (female).
SEXES: tuple[str, ...] = ("female", "male", "unknown")
SEX_CODES: dict[str, str] = {"F": "female", "M": "male", "U": "unknown"}
SEX_TO_CODE: dict[str, str] = {v: k for k, v in SEX_CODES.items()}


def normal_sex(value: str) -> str:
    """female, male or unknown from either form (F, M, U, female, male, unknown; any case); ValueError else."""
    v = value.strip()
    if v.upper() in SEX_CODES:
        return SEX_CODES[v.upper()]
    if v.lower() in SEXES:
        return v.lower()
    raise ValueError(f"sex must be one of {', '.join(SEX_CODES)} (or {', '.join(SEXES)})")


# Category of need (SSDA903 CIN): the main reason the child is in need.
CATEGORIES_OF_NEED: dict[str, str] = {
    "N1": "Abuse or neglect",
    "N2": "Child's disability",
    "N3": "Parental illness or disability",
    "N4": "Family in acute stress",
    "N5": "Family dysfunction",
    "N6": "Socially unacceptable behaviour",
    "N7": "Low income",
    "N8": "Absent parenting",
}


# --- councils: the names beside the ONS codes the system uses -------------------------------------------
# Local authorities (upper tier) by their ONS code, for the codes the demo and tests use; an unknown code has
# no name (null), never an error.
COUNCILS: dict[str, str] = {
    "E10000018": "Leicestershire County Council",
    "E10000019": "Lincolnshire County Council",
    "E10000024": "Nottinghamshire County Council",
    "E10000007": "Derbyshire County Council",
    "E06000016": "Leicester City Council",
    "E06000018": "Nottingham City Council",
    "E06000015": "Derby City Council",
    "E06000017": "Rutland County Council",
    "E08000025": "Birmingham City Council",
    "E08000026": "Coventry City Council",
    "E09000001": "City of London Corporation",
}


def council_name(la_code: str | None) -> str | None:
    return COUNCILS.get(la_code) if la_code else None
