"""Outreach referrals (issue 16): a kind of referral, through the same door as a bed. Pure rules.

A bed referral asks for a Pathway Bed; an outreach referral asks the hub's assessment and outreach team to work
with the child where the child lives now. The outreach fields (where the child lives, what is at risk, the basis
and weeks) belong to outreach only: sent on a bed referral they are refused, naming the field.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date

from libs.common.vocabulary import AT_RISK, CURRENT_SETTINGS

KINDS = ("bed", "outreach")
BASES = ("fixed_fee", "weekly")
OUTREACH_FIELDS = ("current_setting", "at_risk", "outreach_basis", "outreach_planned_weeks")
MAX_PLANNED_WEEKS = 52
FIXED_FEE_WEEKS = 6  # a fixed-fee intervention is six intensive weeks unless the hub says otherwise


class FieldRule(ValueError):
    """A field breaks a rule of its referral's kind (422 naming the field and the rule)."""

    def __init__(self, field: str, rule: str, message: str):
        super().__init__(message)
        self.field, self.rule, self.message = field, rule, message


def check_kind(kind: str, values: dict) -> None:
    """The outreach fields are for outreach: a bed referral carrying one is refused (rule outreach_only); an
    outreach referral says where the child lives now (rule required_for_outreach). `values` holds the
    referral's fields as stored or sent (None or an empty list for a field not given)."""
    if kind == "bed":
        for name in OUTREACH_FIELDS:
            if values.get(name) not in (None, []):
                raise FieldRule(f"body.{name}", "outreach_only",
                                f"{name} is for an outreach referral (\"kind\": \"outreach\"), not a bed referral")
        return
    if not values.get("current_setting"):
        raise FieldRule("body.current_setting", "required_for_outreach",
                        "an outreach referral says where the child lives now: one of "
                        + ", ".join(CURRENT_SETTINGS))
    weeks = values.get("outreach_planned_weeks")
    if weeks is not None and not 1 <= weeks <= MAX_PLANNED_WEEKS:
        raise FieldRule("body.outreach_planned_weeks", "range", f"between 1 and {MAX_PLANNED_WEEKS} weeks")


def check_at_risk(codes: list[str]) -> None:
    """Every code from the published vocabulary (GET /v1/referrals/vocabulary `at_risk`), each once."""
    unknown = sorted({c for c in codes if c not in AT_RISK})
    if unknown:
        raise ValueError(f"unknown code(s) {', '.join(c[:40] for c in unknown[:5])}; one of: {', '.join(AT_RISK)}")
    dupes = sorted(c for c, n in Counter(codes).items() if n > 1)
    if dupes:
        raise ValueError(f"code(s) listed more than once: {', '.join(dupes[:5])}")


@dataclass(frozen=True)
class Handoff:
    """A step-down that hands the child to outreach in the next placement (placement.ended's
    outreach_handoff), as the outreach referral it opens."""
    placement_id: str
    end_date: date
    basis: str
    planned_weeks: int
    setting: str
    outward_code: str | None


# what a step-down's outreach referral is about, and how urgent: the move is planned; the new placement holding
HANDOFF_AT_RISK = ("step_down_move", "placement_breakdown")
HANDOFF_URGENCY = "planned"


def handoff_referral(source: dict, handoff: Handoff) -> dict:
    """The outreach referral a step-down opens, from the child's bed referral (same council, child_ref, date
    of birth, sex, legal status, needs and risks, social worker): where the child moves to, what is at risk,
    the basis and weeks the step-down planned. Column values; the caller adds the ids and clocks."""
    return dict(la_code=source["la_code"], child_ref=source["child_ref"], date_of_birth=source["date_of_birth"],
                sex=source["sex"], legal_status=source["legal_status"],
                category_of_need=source.get("category_of_need"), home_outward_code=handoff.outward_code,
                needs=list(source["needs"]), risks=list(source["risks"]), urgency=HANDOFF_URGENCY,
                wanted_start_date=handoff.end_date, summary=None, social_worker=source.get("social_worker"),
                kind="outreach", current_setting=handoff.setting, at_risk=list(HANDOFF_AT_RISK),
                outreach_basis=handoff.basis, outreach_planned_weeks=handoff.planned_weeks,
                handoff_from_placement_id=handoff.placement_id)
