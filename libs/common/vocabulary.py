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
