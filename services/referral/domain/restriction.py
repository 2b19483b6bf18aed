"""A restriction of processing on a child's record (UK GDPR article 18; docs/decisions/0006-retention.md): what a
right-to-erasure request becomes, since the case record is kept 75 years from the date of birth. Pure: codes
and the rule of what a restricted record shows to whom."""
from __future__ import annotations

from datetime import date

# why the record is restricted
REASONS = ("erasure_request", "accuracy_contested", "objection", "legal_hold")
# who asked
REQUESTERS = ("child", "parent_or_carer", "representative", "council", "data_protection_officer")
# which part of the record the request names (the whole record is then served to the hub only, marked)
SCOPES = ("case_record", "needs_and_risks", "contact_details", "outcomes", "education", "health")


class RequestedInFuture(Exception):
    """A request cannot have been made after today."""


def check_requested_on(requested_on: date, today: date) -> None:
    if requested_on > today:
        raise RequestedInFuture(f"requested_on {requested_on.isoformat()} is after today")


def visible_to(is_hub: bool, restricted: bool) -> bool:
    """A restricted record is served to the hub only; a council's reads are told it is restricted."""
    return is_hub or not restricted
