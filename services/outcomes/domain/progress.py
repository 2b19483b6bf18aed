"""Progress: a child's measures against their baseline, and a cohort's figures. Pure."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Mapping, Sequence

from .measures import change
from .timepoints import add_months

STEP_DOWN_HORIZONS = (3, 6, 12)
UNPLANNED = "unplanned"


def measure_values(m: Mapping) -> dict[str, object]:
    """The scoreable values of one measurement row, by measure name."""
    out: dict[str, object] = {}
    sdq = m.get("sdq")
    if sdq:
        out["sdq_total"] = sdq.get("total_difficulties")
        for scale, v in sdq.get("scales", {}).items():
            out[f"sdq_{scale}"] = v
        out["sdq_externalising"] = sdq.get("externalising")
        out["sdq_internalising"] = sdq.get("internalising")
    for group in ("education", "health", "stability"):
        for k, v in (m.get(group) or {}).items():
            out[f"{group}.{k}"] = v
    return out


def child_progress(rows: Sequence[Mapping]) -> dict:
    """Each measure: its baseline, its latest value after the baseline, the change and its reading."""
    baseline = next((r for r in rows if r["timepoint"] == "baseline"), None)
    base = measure_values(baseline) if baseline else {}
    latest: dict[str, tuple[str, object]] = {}
    for r in sorted((r for r in rows if r["timepoint"] != "baseline"), key=lambda r: (r["recorded_on"], r["timepoint"])):
        for k, v in measure_values(r).items():
            if v is not None:
                latest[k] = (r["timepoint"], v)
    out = {}
    for name in sorted(set(base) | set(latest)):
        tp, value = latest.get(name, (None, None))
        out[name] = {"baseline": base.get(name), "latest": value, "latest_timepoint": tp,
                     **change(name, base.get(name), value)}
    return out


def sdq_change(rows: Sequence[Mapping], until: date) -> int | None:
    """Latest SDQ total difficulties (recorded on or before `until`, after the baseline) minus the baseline's."""
    base = next((r["sdq_total"] for r in rows if r["timepoint"] == "baseline" and r.get("sdq_total") is not None), None)
    later = [r for r in rows if r["timepoint"] != "baseline" and r.get("sdq_total") is not None
             and r["recorded_on"] <= until]
    if base is None or not later:
        return None
    last = max(later, key=lambda r: (r["recorded_on"], r["timepoint"]))
    return last["sdq_total"] - base


FOLLOW_UP_POINTS = {"follow_up_3_months": 3, "follow_up_6_months": 6, "follow_up_12_months": 12}


def step_down_evidence(placement: Mapping, measures: Sequence[Mapping], follow_ups: Sequence[Mapping]
                       ) -> list[tuple[date, bool]]:
    """What was recorded after a step-down about whether the child's new placement held, as (day, held):
    - a follow-up measure (timepoints follow_up_3/6/12_months, recorded after the end): stability.placement_moves
      0 says held on the day it was recorded, more than 0 says it broke;
    - an outreach follow-up of the child (intervention.follow_up_recorded): held, or broke on its breakdown
      date (else the day it was recorded)."""
    end = placement["end_date"]
    out: list[tuple[date, bool]] = []
    for m in measures:
        if m["timepoint"] in FOLLOW_UP_POINTS and m["recorded_on"] > end:
            moves = (m.get("stability") or {}).get("placement_moves")
            if moves is not None:
                out.append((m["recorded_on"], moves == 0))
    for f in follow_ups:
        if f["recorded_on"] > end:
            out.append((f["recorded_on"], True) if f["held"] else (max(f["breakdown_date"] or f["recorded_on"],
                                                                       end + timedelta(days=1)), False))
    return sorted(out)


def step_down_holds(end: date, later_referral_days: Iterable[int], today: date, months: int,
                    evidence: Sequence[tuple[date, bool]] = ()) -> str:
    """Whether a step-down held for `months` (the rule, README "Step-downs held"):
    'broke' when, within that time after the end, the child was referred again for a bed, or a follow-up (a
    follow-up measure or an outreach follow-up) says the placement broke down; otherwise 'held' once the time
    has passed, or earlier when a follow-up recorded on or after the horizon says it still held; 'pending'
    until then."""
    horizon = add_months(end, months)
    if any(end.toordinal() < d <= horizon.toordinal() for d in later_referral_days):
        return "broke"
    if any(not held and end < day <= horizon for day, held in evidence):
        return "broke"
    if today >= horizon or any(held and day >= horizon for day, held in evidence):
        return "held"
    return "pending"


def _dec(x: Decimal | float, places: str = "0.01") -> str:
    return str(Decimal(str(x)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def cohort_figures(placements: Sequence[Mapping], measures: Mapping[str, Sequence[Mapping]],
                   later_referrals: Mapping[str, Sequence[int]], start: date, end: date, today: date,
                   evidence: Mapping[str, Sequence[tuple[date, bool]]] | None = None) -> dict:
    """One group's figures for the date range [start, end] (placements overlapping it)."""
    changes = [c for c in (sdq_change(measures.get(p["placement_id"], ()), end) for p in placements) if c is not None]
    ended = [p for p in placements if p["end_date"] is not None and start <= p["end_date"] <= end]
    unplanned = [p for p in ended if p["planned"] is False]
    step_downs = [p for p in ended if p["planned"] and p["ending_type"] == "step_down"]
    nights = []
    for p in placements:
        lo = max(p["start_date"], start)
        hi = min(p["end_date"] - timedelta(days=1), end) if p["end_date"] else end
        nights.append(max((hi - lo).days + 1, 0))
    held = {}
    for months in STEP_DOWN_HORIZONS:
        states = [step_down_holds(p["end_date"], later_referrals.get(p["placement_id"], ()), today, months,
                                  (evidence or {}).get(p["placement_id"], ())) for p in step_downs]
        held[f"{months}_months"] = {"held": states.count("held"), "broke": states.count("broke"),
                                    "pending": states.count("pending")}
    return {
        "children": len({p["referral_id"] for p in placements}),
        "placements": len(placements),
        "sdq": {"with_baseline_and_follow_up": len(changes),
                "mean_change_total_difficulties": _dec(Decimal(sum(changes)) / len(changes)) if changes else None,
                "share_improved": _dec(Decimal(sum(1 for c in changes if c < 0)) / len(changes), "0.001")
                if changes else None},
        "stability": {"placements_ended": len(ended), "still_running_at_end": sum(1 for p in placements if
                                                                                   p["end_date"] is None or p["end_date"] > end),
                      "mean_nights_in_range": _dec(Decimal(sum(nights)) / len(nights), "0.1") if nights else None},
        "breakdown_rate": _dec(Decimal(len(unplanned)) / len(ended), "0.001") if ended else None,
        "unplanned_endings": len(unplanned),
        "step_downs": {"count": len(step_downs), **held},
    }
