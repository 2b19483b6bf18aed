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
    Term("exploitation_risk", "At risk of exploitation (child sexual or criminal exploitation, CSE/CCE)", "safety"),
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
]

NEEDS_AND_RISKS: dict[str, Term] = {t.code: t for t in _TERMS}


def is_known(code: str) -> bool:
    return code in NEEDS_AND_RISKS


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
