"""A placement as the SSDA903 (children looked after) return sees it: episodes. Pure.

An episode is a period with one legal status in one placement. A placement here starts an episode on the
arrival day; every change of legal status during it ends that episode (REC X1, no reason for placement
change) and starts the next the same day (RNE L); the ending closes the last one with its reason episode
ceased code (and, for X1, the reason for the placement change). The child's legal status history is the
status the council referred with (from the arrival day) and each recorded change from its effective day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from libs.common.geography import distance_km
from libs.common.vocabulary import LEGAL_STATUSES, SEX_TO_CODE

# Our homes are children's homes under the Children's Homes Regulations (PLACE K2), run by a private provider
# (PLACE_PROVIDER PR4). The return's own column names, in its order, then the distance the DfE derives.
PLACE = "K2"
PLACE_PROVIDER = "PR4"
COLUMNS = ("CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "URN", "PL_POST", "HOME_POST",
           "PL_DISTANCE", "DEC", "REC", "REASON_PLACE_CHANGE")
# reason for new episode: S started to be looked after, P a change of placement only, B both placement and
# legal status, L legal status only (what a change during the placement starts)
REASONS_NEW_EPISODE: dict[str, str] = {
    "S": "Started to be looked after",
    "L": "Change of legal status only",
    "P": "Change of placement only",
    "B": "Change of legal status and placement at the same time",
}
ARRIVAL_REASONS = ("S", "P", "B")
KM_PER_MILE = 1.609344


class InvalidEpisode(ValueError):
    def __init__(self, field_name: str, rule: str, message: str):
        self.field = field_name
        self.rule = rule
        super().__init__(message)


@dataclass(frozen=True)
class LegalStatusSpan:
    legal_status: str | None
    effective_date: date


def legal_status_history(initial: str | None, arrival: date | None, changes: list[dict]) -> list[LegalStatusSpan]:
    """The legal status in force from each day: the referral's from arrival, then each change (a change on
    the arrival day corrects the first). Changes are kept in effective-date order."""
    if arrival is None:
        return []
    out = [LegalStatusSpan(initial, arrival)]
    for c in sorted(changes, key=lambda c: c["effective_date"]):
        day = date.fromisoformat(c["effective_date"]) if isinstance(c["effective_date"], str) else c["effective_date"]
        if day == arrival:
            out[0] = LegalStatusSpan(c["legal_status"], arrival)
        else:
            out.append(LegalStatusSpan(c["legal_status"], day))
    return out


def check_legal_status_change(history: list[LegalStatusSpan], legal_status: str, effective: date, *,
                              arrival: date | None, end_date: date | None, today: date) -> None:
    """A change takes effect on a day between the arrival and today (before any ending), after the last
    change, and changes the status."""
    if legal_status not in LEGAL_STATUSES:
        raise InvalidEpisode("legal_status", "legal_status_code",
                             f"{legal_status!r} is not a legal status; one of {', '.join(LEGAL_STATUSES)}")
    if arrival is None:
        raise InvalidEpisode("effective_date", "after_arrival", "the child has not arrived: the legal status "
                                                                "at arrival is the referral's")
    if effective < arrival or effective > today:
        raise InvalidEpisode("effective_date", "date_in_order", f"a legal status change takes effect between the "
                                                                f"arrival ({arrival.isoformat()}) and today")
    if end_date is not None and effective >= end_date:
        raise InvalidEpisode("effective_date", "date_in_order", f"the placement ended on {end_date.isoformat()}")
    last = history[-1] if history else None
    if last is not None and effective < last.effective_date:
        raise InvalidEpisode("effective_date", "date_in_order", f"the last change took effect on "
                                                                f"{last.effective_date.isoformat()}")
    in_force = [h for h in history if h.effective_date <= effective]
    current = in_force[-1].legal_status if in_force else None
    if current == legal_status:
        raise InvalidEpisode("legal_status", "legal_status_changes", f"the legal status is already {legal_status}")


def miles(from_outward: str | None, to_outward: str | None) -> float | None:
    """PL_DISTANCE: from the child's home area to the placement, in miles (one decimal), None when unknown."""
    km = distance_km(from_outward, to_outward)
    return None if km is None else round(km / KM_PER_MILE, 1)


def _outward(postcode: str | None) -> str | None:
    return postcode.split()[0].upper() if postcode else None


def episodes(*, child: dict, placement: dict) -> list[dict]:
    """The episodes of one placement, oldest first: dicts keyed by COLUMNS (dates as dates).

    child: child_ref, legal_status, category_of_need, home_outward_code.
    placement: arrival_date, end_date, ending ({reason_code, reason_place_change}), reason_new_episode,
    home_urn, home_postcode, legal_statuses (the recorded changes)."""
    arrival = placement.get("arrival_date")
    if arrival is None:
        return []
    spans = legal_status_history(child.get("legal_status"), arrival, placement.get("legal_statuses") or [])
    end, ending = placement.get("end_date"), placement.get("ending") or {}
    base = {"CHILD": child.get("child_ref"), "CIN": child.get("category_of_need"), "PLACE": PLACE,
            "PLACE_PROVIDER": PLACE_PROVIDER, "URN": placement.get("home_urn"),
            "PL_POST": placement.get("home_postcode"), "HOME_POST": child.get("home_outward_code"),
            "PL_DISTANCE": miles(child.get("home_outward_code"), _outward(placement.get("home_postcode")))}
    rows = []
    for i, span in enumerate(spans):
        nxt = spans[i + 1] if i + 1 < len(spans) else None
        row = {**base, "DECOM": span.effective_date, "LS": span.legal_status,
               "RNE": (placement.get("reason_new_episode") or "P") if i == 0 else "L",
               "DEC": None, "REC": None, "REASON_PLACE_CHANGE": None}
        if nxt is not None:
            row.update(DEC=nxt.effective_date, REC="X1")
        elif end is not None:
            row.update(DEC=end, REC=ending.get("reason_code"),
                       REASON_PLACE_CHANGE=ending.get("reason_place_change") if ending.get("reason_code") == "X1"
                       else None)
        rows.append({c: row[c] for c in COLUMNS})
    return rows


def csc_placement(*, placement_id: str, placement: dict) -> dict | None:
    """One placement in the shape of the DfE children's social care API (its child_looked_after_placements items):
    the placement's start, its reason for new episode, the placement type, the home's postcode, its end with the
    reason episode ceased and (X1) the reason for the placement change. None before the child arrives. A legal status
    change during the placement is an episode (SSDA903), not a new placement, so it changes nothing here."""
    arrival = placement.get("arrival_date")
    if arrival is None:
        return None
    end, ending = placement.get("end_date"), placement.get("ending") or {}
    reason = ending.get("reason_code") if end is not None else None
    return {"child_looked_after_placement_id": placement_id, "start_date": arrival,
            "start_reason": placement.get("reason_new_episode") or "P", "placement_type": PLACE,
            "postcode": placement.get("home_postcode"), "end_date": end, "end_reason": reason,
            "change_reason": ending.get("reason_place_change") if reason == "X1" else None, "purge": False}


def overlaps(row: dict, start: date | None, end: date | None) -> bool:
    """An episode open at some time between start and end (inclusive)."""
    if end is not None and row["DECOM"] > end:
        return False
    return not (start is not None and row["DEC"] is not None and row["DEC"] < start)


def csv_value(column: str, value) -> str:
    """The return's CSV form: dates as DD/MM/YYYY, unknowns empty."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def header_row(child: dict) -> dict:
    """The 903 header's facts that the provider holds (CHILD, SEX as M/F/U, DOB), for the age rules."""
    return {"CHILD": child.get("child_ref"), "SEX": SEX_TO_CODE.get(child.get("sex") or ""),
            "DOB": child.get("date_of_birth")}
