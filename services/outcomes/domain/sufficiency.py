"""The commissioners' sufficiency report shaped from the aggregates the repository computes, as JSON and
as CSV (one row per figure: section, key, value). Pure."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

DECLINE_REASONS = ("risk_to_current_group", "needs_beyond_registration", "no_vacancy", "staffing", "other")


def _d(x, places: str = "0.1") -> str | None:
    return None if x is None else str(Decimal(str(x)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def shape(rows: dict, start: date, end: date, la_code: str | None, council_view: bool) -> dict:
    declines = {r: 0 for r in DECLINE_REASONS}
    accepted = 0
    for decision, reason, n in rows["decisions"]:
        if decision == "declined":
            declines[reason or "other"] = declines.get(reason or "other", 0) + n
        else:
            accepted += n
    days = (end - start).days + 1
    places = rows["registered_places"]
    occ = rows["outside_area"]
    return {
        "from": start.isoformat(), "to": end.isoformat(), "la_code": la_code,
        "referrals": {"total": sum(rows["referrals_by_council"].values()),
                      "outreach": rows.get("outreach_referrals", 0),
                      "by_council": dict(sorted(rows["referrals_by_council"].items())),
                      "by_need": dict(sorted(rows["referrals_by_need"].items()))},
        "placements_made": {"total": sum(rows["placements_by_council"].values()),
                            "by_council": dict(sorted(rows["placements_by_council"].items()))},
        "decisions": {"accepted": accepted, "declined": sum(declines.values()), "declines_by_reason": declines},
        "days_to_decision": {"n": rows["days_to_decision"]["n"], "median": _d(rows["days_to_decision"]["median"]),
                             "p90": _d(rows["days_to_decision"]["p90"])},
        "days_to_admission": {"n": rows["days_to_admission"]["n"], "median": _d(rows["days_to_admission"]["median"]),
                              "p90": _d(rows["days_to_admission"]["p90"])},
        "distance_from_home": {"n": rows["distance_km"]["n"], "median_km": _d(rows["distance_km"]["median"]),
                               "p90_km": _d(rows["distance_km"]["p90"]),
                               "placed_outside_own_area": occ["outside"], "area_known": occ["known"],
                               "share_outside_own_area": _d(Decimal(occ["outside"]) / occ["known"], "0.001")
                               if occ["known"] else None},
        "occupancy": {"bed_nights": rows["bed_days"], "days": days,
                      "mean_children_placed": _d(Decimal(rows["bed_days"]) / days, "0.01"),
                      # a council sees its own children's nights, not the provider's capacity
                      "registered_places": None if council_view else places,
                      "rate": None if council_view or not places else
                      _d(Decimal(rows["bed_days"]) / (places * days), "0.001")},
        "contract_use": {"placements_by_fee_basis": dict(sorted(rows["fee_basis"].items())),
                         "block": _block(rows["block"])},
    }


def _block(b: dict) -> dict:
    """Block contracts as billing invoiced them: the block lines of the range (what the blocks cost, full or
    not), the placements whose weekly fee came from a block contract, and those charged above the block."""
    return {"contracts": b["contracts"], "invoiced": str((Decimal(b["invoiced_pence"]) / 100).quantize(Decimal("0.01"))),
            "invoiced_days": b["invoiced_days"], "placements_on_block_contracts": b["placements_on_block_contracts"],
            "placements_charged_above_block": b["placements_charged_above_block"],
            "days_charged_above_block": b["days_charged_above_block"]}


def flatten(report: dict, prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k, v in report.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out += flatten(v, key + ".")
        else:
            out.append((key, "" if v is None else str(v)))
    return out


def as_csv(report: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["figure", "value"])
    for k, v in flatten(report):
        w.writerow([k, v])
    return buf.getvalue()
