"""Pure rules of a referral. No web or database imports."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

from libs.common.ages import age_on
from libs.common.vocabulary import CATEGORIES_OF_NEED, DEPRECATED, LEGAL_STATUSES, is_known, normal_sex

# UK postcode: outward code (area + district) then inward code (sector + unit).
_POSTCODE = re.compile(r"^(GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]?) ?([0-9][ABD-HJLNP-UW-Z]{2})$")
_OUTWARD = re.compile(r"^(GIR|[A-PR-UWYZ][A-HK-Y]?[0-9][0-9A-HJKMNPR-Y]?)$")


class InvalidPostcode(ValueError):
    pass


def outward_code(postcode: str) -> str:
    """The outward code of a full UK postcode ("le4 6ab" -> "LE4"). Only this part is ever stored,
    to keep the child's home area without their address."""
    normal = re.sub(r"\s+", " ", postcode.strip().upper())
    m = _POSTCODE.match(normal)
    if m:
        return "GIR" if m.group(1).startswith("GIR") else m.group(1)
    if _OUTWARD.match(normal):
        return normal
    raise InvalidPostcode("not a UK postcode (for example LE4 6AB)")


# --- the rest of a referral's validation ------------------------------------------------------------
# Looked-after children legal status codes (DfE SSDA903 "legal status" list): one list, in libs.common.vocabulary.
URGENCIES = ("crisis", "urgent", "planned")

# The most needs (and, separately, risks) one referral may list. A code may appear once, and the controlled
# vocabulary has 22 codes, so a valid list is never longer; 50 leaves room for the vocabulary to grow while
# refusing, before any item is examined, a body with thousands of entries (issue 10: one council's 20,000
# needs stalled the service for everyone).
MAX_NEEDS = 50
MAX_RISKS = 50  # most urgent first: the order of the hub's queue


def urgency_rank(urgency: str) -> int:
    return URGENCIES.index(urgency)


class InvalidLegalStatus(ValueError):
    pass


class AgeOutsideRange(ValueError):
    pass


class UnknownNeedOrRisk(ValueError):
    pass


class InvalidCode(ValueError):
    pass


def check_sex(value: str) -> str:
    """The return's codes (M, F, U) or the words (male, female, unknown), stored as the word."""
    try:
        return normal_sex(value)
    except ValueError as exc:
        raise InvalidCode(str(exc)) from None


def check_category_of_need(code: str) -> str:
    normal = code.strip().upper()
    if normal not in CATEGORIES_OF_NEED:
        raise InvalidCode(f"category of need (SSDA903 CIN) must be one of {', '.join(CATEGORIES_OF_NEED)}")
    return normal


def check_legal_status(code: str) -> str:
    normal = code.strip().upper()
    if normal not in LEGAL_STATUSES:
        raise InvalidLegalStatus(f"legal status must be one of {', '.join(LEGAL_STATUSES)}")
    return normal


def check_age(date_of_birth: date, on: date, age_min: int, age_max: int) -> int:
    """The home range is inclusive: a child of age_max years (up to the day before their next
    birthday) is inside it. The age is taken on the wanted start date (or the day of the referral)."""
    if date_of_birth > on:
        raise AgeOutsideRange("date of birth is after the start date")
    age = age_on(date_of_birth, on)
    if not age_min <= age <= age_max:
        raise AgeOutsideRange(f"the child would be {age} on {on.isoformat()}; the homes take children aged "
                              f"{age_min} to {age_max}")
    return age


def check_needs_or_risks(codes: list[str], *, allow_deprecated: bool = False) -> None:
    """Every code known (or, with allow_deprecated, a retired code still accepted), none twice. Linear in the number
    of codes (one pass to count)."""
    unknown = [c for c in codes if not is_known(c) and not (allow_deprecated and c in DEPRECATED)]
    if unknown:
        raise UnknownNeedOrRisk(f"unknown code(s) {_some(unknown)}; use the controlled "
                                f"vocabulary (GET /v1/referrals/vocabulary)")
    dupes = sorted(c for c, n in Counter(codes).items() if n > 1)
    if dupes:
        raise UnknownNeedOrRisk(f"code(s) listed more than once: {_some(dupes)}")


def _some(codes: list[str], most: int = 5) -> str:
    """At most a few of the codes, for a message (the message never grows with the request)."""
    distinct = sorted(set(codes))
    shown = ", ".join(c[:40] for c in distinct[:most])
    return shown + (f" and {len(distinct) - most} more" if len(distinct) > most else "")
