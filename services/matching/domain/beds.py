"""Beds and the Pathway Bed.

A live home with a vacancy has exactly one Pathway Bed. It stays the Pathway Bed while reserved;
when a child arrives it is occupied and another vacant bed takes the role; when a placement ends,
the freed bed becomes the next Pathway Bed unless a free one already exists.
"""
from __future__ import annotations

from dataclasses import dataclass

BED_STATES = ("vacant", "reserved", "occupied", "out_of_service")
# allowed manual moves (arrivals, endings and reservations move beds through events and admissions)
MANUAL_MOVES = {"vacant": ("out_of_service",), "out_of_service": ("vacant",)}


class IllegalBedMove(Exception):
    def __init__(self, state: str, wanted: str):
        self.allowed = MANUAL_MOVES.get(state, ())
        super().__init__(f"a bed that is {state} cannot be set to {wanted} by hand")


def check_manual_move(state: str, wanted: str) -> None:
    if wanted not in MANUAL_MOVES.get(state, ()):
        raise IllegalBedMove(state, wanted)


@dataclass(frozen=True)
class Bed:
    id: str
    label: str
    state: str
    is_pathway: bool = False


def choose_pathway_bed(beds: list[Bed], live: bool, freed: str | None = None) -> str | None:
    """Which bed should be the Pathway Bed now (None: no vacancy, or the home is not live)."""
    if not live:
        return None
    current = [b for b in beds if b.is_pathway and b.state in ("vacant", "reserved")]
    if current:
        return current[0].id
    vacant = sorted((b for b in beds if b.state == "vacant"), key=lambda b: (b.label, b.id))
    if freed and any(b.id == freed for b in vacant):
        return freed
    return vacant[0].id if vacant else None


ONBOARDING_CHECKLIST = (
    "registration_verified",
    "registered_manager_appointed",
    "staff_trained_in_therapeutic_model",
    "therapeutic_governance_checklist_complete",
    "safeguarding_policies_in_place",
    "council_partner_agreement_signed",
)
