"""The outreach evidence report (issue 16): per intervention, per team and per council, placements held and
broken down at the follow-up checkpoints, time to stabilise, and the return on investment: the fees paid
against the breakdown costs avoided at the council's assumed cost of a breakdown. Pure.

Rules (README "Outreach evidence"):
- A checkpoint (6 weeks, 3 months, 6 months after the intervention closed, as assessment schedules them) reads `held` or `broke` from the
  follow-up recorded for it; a breakdown at one checkpoint means every later checkpoint broke too; a checkpoint
  not yet recorded is `pending`. An intervention that closed with outcome `breakdown` broke.
- A placement counts as held when its latest recorded checkpoint says held and nothing says it broke; as broken
  down when anything says it broke; otherwise it is still open (no follow-up yet).
- Breakdown costs avoided = placements held x the council's assumed cost of a breakdown (default £50,000).
- Fees paid = every outreach invoice line of the intervention (stream "outreach"), adjustments included; a
  council's (and the whole report's) fees add its retainer lines (stream "outreach" naming no intervention: a
  yearly fee for N interventions) overlapping the range, which no one intervention or team carries.
- Return on investment = (costs avoided - fees paid) / fees paid; null without fees.
- Time to stabilise = days from the intervention's start to the day it was judged stable (intervention.closed's
  `stabilised_on`); the median over the interventions that stabilised.
"""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from statistics import median
from typing import Mapping, Sequence

CHECKPOINTS = ("6_weeks", "3_months", "6_months")
DEFAULT_BREAKDOWN_COST_PENCE = 5_000_000   # £50,000: emergency moves, legal fees and staff time (issue 16)
MAX_BREAKDOWN_COST_PENCE = 100_000_000     # £1,000,000: anything above is a typing slip


class SettingError(ValueError):
    def __init__(self, field: str, rule: str, message: str):
        super().__init__(message)
        self.field, self.rule = field, rule


def pounds(pence: int | None) -> str | None:
    return None if pence is None else str((Decimal(pence) / 100).quantize(Decimal("0.01")))


def parse_cost(value) -> int:
    """A breakdown cost as a decimal string of pounds ("50000.00") -> pence; positive, at most £1,000,000."""
    try:
        amount = Decimal(str(value))
    except Exception:  # noqa: BLE001 - decimal.InvalidOperation and friends
        raise SettingError("body.breakdown_cost", "decimal", "a decimal string of pounds, e.g. \"50000.00\"") from None
    if not amount.is_finite():
        raise SettingError("body.breakdown_cost", "decimal", "pounds with at most two decimal places")
    if amount <= 0 or amount * 100 > MAX_BREAKDOWN_COST_PENCE:  # before quantize: "1e30" cannot be quantized
        raise SettingError("body.breakdown_cost", "range", "more than 0 and at most 1000000.00")
    if amount != amount.quantize(Decimal("0.01")):
        raise SettingError("body.breakdown_cost", "decimal", "pounds with at most two decimal places")
    return int(amount * 100)


def checkpoints(intervention: Mapping, follow_ups: Sequence[Mapping]) -> dict[str, str]:
    by = {f["checkpoint"]: f for f in follow_ups}
    out, broke = {}, False
    for cp in CHECKPOINTS:
        f = by.get(cp)
        if broke or (f is not None and not f["held"]):
            broke = True
            out[cp] = "broke"
        else:
            out[cp] = "held" if f is not None else "pending"
    return out


def placement_state(intervention: Mapping, points: Mapping[str, str]) -> str:
    values = list(points.values())
    if "broke" in values or intervention.get("outcome") == "breakdown":
        return "broken_down"
    return "held" if "held" in values else "open"


def days_to_stabilise(intervention: Mapping) -> int | None:
    start, stable = intervention.get("start_date"), intervention.get("stabilised_on")
    if start is None or stable is None:
        return None
    return max((stable - start).days, 0)


def _ratio(x: Decimal, places: str = "0.01") -> str:
    return str(x.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def figures(items: Sequence[Mapping], retainer_pence: int = 0) -> dict:
    """A group's figures from its interventions' rows (as `intervention_row` shapes them); a council's (and the
    whole report's) fees include its outreach retainers' lines in the range."""
    held = {cp: {"held": 0, "broke": 0, "pending": 0} for cp in CHECKPOINTS}
    for it in items:
        for cp, v in it["checkpoints"].items():
            held[cp][v] += 1
    stab = [it["days_to_stabilise"] for it in items if it["days_to_stabilise"] is not None]
    fees = sum(it["fees_paid_pence"] for it in items) + retainer_pence
    avoided = sum(it["breakdown_costs_avoided_pence"] for it in items)
    return {
        "interventions": len(items),
        "placements_held": sum(1 for it in items if it["placement"] == "held"),
        "placements_broken_down": sum(1 for it in items if it["placement"] == "broken_down"),
        "placements_open": sum(1 for it in items if it["placement"] == "open"),
        "checkpoints": held,
        "median_days_to_stabilise": None if not stab else _ratio(Decimal(str(median(stab))), "0.1"),
        "stabilised": len(stab),
        "retainer_fees": pounds(retainer_pence),
        "fees_paid": pounds(fees), "breakdown_costs_avoided": pounds(avoided), "net_saving": pounds(avoided - fees),
        "return_on_investment": _ratio((Decimal(avoided) - fees) / fees) if fees else None,
    }


def intervention_row(it: Mapping, follow_ups: Sequence[Mapping], fees_pence: int, sessions: int,
                     breakdown_cost_pence: int, referral: Mapping | None) -> dict:
    points = checkpoints(it, follow_ups)
    state = placement_state(it, points)
    return {"intervention_id": it["intervention_id"], "referral_id": it["referral_id"], "la_code": it["la_code"],
            "team_id": it["team_id"], "child_ref": (referral or {}).get("child_ref"), "basis": it["basis"],
            "current_setting": it["current_setting"],
            "handoff_from_placement_id": (referral or {}).get("handoff_from_placement_id"),
            "start_date": it["start_date"], "end_date": it["end_date"], "status": it["status"],
            "outcome": it["outcome"], "sessions": sessions, "checkpoints": points, "placement": state,
            "days_to_stabilise": days_to_stabilise(it), "fees_paid_pence": int(fees_pence or 0),
            "breakdown_cost_assumed": pounds(breakdown_cost_pence),
            "breakdown_costs_avoided_pence": breakdown_cost_pence if state == "held" else 0}


def report(rows: dict, settings: Mapping[str, int], start: date, end: date, la_code: str | None) -> dict:
    """The whole report from the repository's rows; `settings` is each council's breakdown cost in pence."""
    items = [intervention_row(it, rows["follow_ups"].get(it["intervention_id"], ()),
                              rows["fees"].get(it["intervention_id"], 0), rows["sessions"].get(it["intervention_id"], 0),
                              settings.get(it["la_code"], DEFAULT_BREAKDOWN_COST_PENCE),
                              rows["referrals"].get(it["referral_id"]))
             for it in rows["interventions"]]
    retainers = rows.get("retainers", {})
    by_team: dict[str, list] = {}
    by_council: dict[str, list] = {la: [] for la in retainers}
    for it in items:
        by_team.setdefault(it["team_id"], []).append(it)
        by_council.setdefault(it["la_code"], []).append(it)
    public = [{**{k: v for k, v in it.items() if not k.endswith("_pence")},
               "fees_paid": pounds(it["fees_paid_pence"]),
               "breakdown_costs_avoided": pounds(it["breakdown_costs_avoided_pence"])} for it in items]
    return {"from": start, "to": end, "la_code": la_code,
            "breakdown_cost": {la: pounds(settings.get(la, DEFAULT_BREAKDOWN_COST_PENCE)) for la in sorted(by_council)},
            "interventions": public,
            "teams": [{"team_id": k, **figures(v)} for k, v in sorted(by_team.items())],
            "councils": [{"la_code": k, **figures(v, retainers.get(k, 0))} for k, v in sorted(by_council.items())],
            "all": figures(items, sum(retainers.values()))}


CSV_FIGURES = ("interventions", "placements_held", "placements_broken_down", "placements_open",
               "median_days_to_stabilise", "fees_paid", "breakdown_costs_avoided", "net_saving",
               "return_on_investment")


def as_csv(rep: dict) -> str:
    """One row per intervention, team, council and the whole: the same columns for each level."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["level", "id", "la_code", "team_id", *CSV_FIGURES,
                *[f"{cp}_{s}" for cp in CHECKPOINTS for s in ("held", "broke", "pending")]])
    for it in rep["interventions"]:
        cps = it["checkpoints"]
        w.writerow(["intervention", it["intervention_id"], it["la_code"], it["team_id"], 1,
                    int(it["placement"] == "held"), int(it["placement"] == "broken_down"), int(it["placement"] == "open"),
                    "" if it["days_to_stabilise"] is None else it["days_to_stabilise"], it["fees_paid"],
                    it["breakdown_costs_avoided"], "", "",
                    *[int(cps[cp] == s) for cp in CHECKPOINTS for s in ("held", "broke", "pending")]])
    for level, key, groups in (("team", "team_id", rep["teams"]), ("council", "la_code", rep["councils"]),
                               ("all", None, [rep["all"]])):
        for g in groups:
            w.writerow([level, g.get(key, "") if key else "all", g.get("la_code", ""), g.get("team_id", ""),
                        *["" if g[f] is None else g[f] for f in CSV_FIGURES],
                        *[g["checkpoints"][cp][s] for cp in CHECKPOINTS for s in ("held", "broke", "pending")]])
    return buf.getvalue()
