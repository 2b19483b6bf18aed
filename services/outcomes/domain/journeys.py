"""Total cost of care: a child's journey (placements, each a setting, a length and a rate) costed line by line
and compared with another. Pure; money in Decimal, answered as decimal strings to the penny.

The commissioners' modelling (domain.md, "Outcomes and value"): a month counts as `weeks_per_month` weeks
(4 by default), 7 days make a week (so 28 days are 4 weeks); lengths in days, weeks or months, or a one-off.
A line's stated total is never used in place of rate x length: a mismatch is flagged, with the difference."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Mapping, Sequence

from .errors import OutcomeError

UNITS = ("day", "week", "month", "one_off")
RATE_PER = ("week", "day", "one_off")
PENNY = Decimal("0.01")


def money(x: Decimal) -> str:
    return str(x.quantize(PENNY, rounding=ROUND_HALF_UP))


# Bounds that no real journey reaches, so that costing never overflows the decimal context (a 500, not a 422):
MAX_AMOUNT = Decimal(1_000_000_000)   # a rate or a stated total, in pounds
MAX_LENGTH = Decimal(100_000)         # a segment's length, in its unit
MAX_WEEKS_PER_MONTH = Decimal(5)      # a calendar month is 4 to 4.43 weeks


def _decimal(value, field: str, *, maximum: Decimal = MAX_AMOUNT) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise OutcomeError(field, "decimal_string", "a decimal such as \"4900.00\"")
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        raise OutcomeError(field, "decimal_string", "a decimal such as \"4900.00\"") from None
    if not d.is_finite():
        raise OutcomeError(field, "decimal_string", "a decimal such as \"4900.00\"")
    if d < 0:
        raise OutcomeError(field, "non_negative", "zero or more")
    if d > maximum:
        raise OutcomeError(field, "too_large", f"at most {maximum}")
    return d


@dataclass(frozen=True)
class Segment:
    setting: str
    length: Decimal
    unit: str
    rate: Decimal
    rate_per: str
    stated_total: Decimal | None


def parse_segment(raw: Mapping, field: str) -> Segment:
    setting = raw.get("setting")
    if not isinstance(setting, str) or not setting.strip() or len(setting) > 200:
        raise OutcomeError(f"{field}.setting", "setting_required", "the setting, e.g. \"Residential Placement\"")
    unit = raw.get("unit")
    if unit not in UNITS:
        raise OutcomeError(f"{field}.unit", "unit", f"one of {', '.join(UNITS)}")
    rate_per = raw.get("rate_per") or "week"
    if rate_per not in RATE_PER:
        raise OutcomeError(f"{field}.rate_per", "rate_per", f"one of {', '.join(RATE_PER)}")
    if (unit == "one_off") != (rate_per == "one_off"):
        raise OutcomeError(f"{field}.rate_per", "one_off_pairs",
                           "a one-off cost has unit one_off and rate_per one_off; a stay has neither")
    length = _decimal(raw.get("length", 1 if unit == "one_off" else None), f"{field}.length", maximum=MAX_LENGTH)
    rate = _decimal(raw.get("rate"), f"{field}.rate")
    stated = raw.get("stated_total")
    return Segment(setting.strip(), length, unit, rate, rate_per,
                   None if stated is None else _decimal(stated, f"{field}.stated_total"))


def weeks(length: Decimal, unit: str, weeks_per_month: Decimal) -> Decimal:
    return {"day": length / 7, "week": length, "month": length * weeks_per_month}[unit]


def segment_cost(seg: Segment, weeks_per_month: Decimal) -> Decimal:
    if seg.unit == "one_off":
        return seg.rate * seg.length
    w = weeks(seg.length, seg.unit, weeks_per_month)
    return seg.rate * w if seg.rate_per == "week" else seg.rate * w * 7


def cost_journey(segments: Sequence[Segment], weeks_per_month: Decimal) -> dict:
    lines, computed, stated, stated_complete = [], Decimal(0), Decimal(0), True
    for n, seg in enumerate(segments, 1):
        cost = segment_cost(seg, weeks_per_month).quantize(PENNY, rounding=ROUND_HALF_UP)
        line = {"line": n, "setting": seg.setting, "length": str(seg.length), "unit": seg.unit,
                "rate": money(seg.rate), "rate_per": seg.rate_per,
                "weeks": None if seg.unit == "one_off" else str(weeks(seg.length, seg.unit, weeks_per_month)
                                                                 .quantize(Decimal("0.0001")).normalize()),
                "computed_total": money(cost), "stated_total": None, "mismatch": False, "difference": None}
        computed += cost
        if seg.stated_total is None:
            stated += cost           # no stated figure: the stated basis carries the computed one
            stated_complete = False
        else:
            diff = seg.stated_total - cost
            line.update(stated_total=money(seg.stated_total), mismatch=diff.quantize(PENNY) != 0,
                        difference=money(diff))
            stated += seg.stated_total
        lines.append(line)
    return {"segments": lines, "computed_total": money(computed), "stated_total": money(stated),
            "all_lines_stated": stated_complete, "mismatched_lines": [l["line"] for l in lines if l["mismatch"]]}


def compare(body: Mapping) -> dict:
    """Each journey costed line by line, and actual minus alternative on both bases: positive is the cost the
    alternative (the pathway's journey) avoids, negative the cost it adds (domain.md, total cost of care)."""
    wpm = _decimal(body.get("weeks_per_month", 4), "body.weeks_per_month", maximum=MAX_WEEKS_PER_MONTH)
    if wpm == 0:
        raise OutcomeError("body.weeks_per_month", "positive", "more than zero")
    journeys = {}
    for name in ("actual", "alternative"):
        raw = body.get(name)
        if not isinstance(raw, list) or not raw:
            raise OutcomeError(f"body.{name}", "segments_required", "a list of one or more segments")
        if len(raw) > 500:
            raise OutcomeError(f"body.{name}", "too_many_segments", "at most 500 segments")
        segs = []
        for i, s in enumerate(raw):
            if not isinstance(s, Mapping):
                raise OutcomeError(f"body.{name}.{i}", "segment_object", "a segment object")
            segs.append(parse_segment(s, f"body.{name}.{i}"))
        journeys[name] = cost_journey(segs, wpm)
    a, b = journeys["actual"], journeys["alternative"]
    computed = Decimal(a["computed_total"]) - Decimal(b["computed_total"])
    stated = Decimal(a["stated_total"]) - Decimal(b["stated_total"])
    return {"weeks_per_month": str(wpm), "currency": "GBP", "actual": a, "alternative": b,
            "difference": {"computed": money(computed), "stated": money(stated),
                           "computed_reading": "avoided" if computed > 0 else "added" if computed < 0 else "none",
                           "stated_reading": "avoided" if stated > 0 else "added" if stated < 0 else "none"}}


# --- a child's journey inside the service, from what billing invoiced -----------------------------------------
def _setting(stream: str, rate_key: str | None) -> str:
    what = "ITP add-on" if stream.startswith("add_on:") else "ITP Pathway Bed"
    return f"{what} ({rate_key or 'mixed rates'}, invoiced)"


def invoiced_segments(lines: Sequence[Mapping]) -> dict:
    """Invoice lines (charge, late, adjustment) as /v1/journeys/compare segments: one per line that charged
    days, costed at what was invoiced for them, which is the line's amount plus every adjustment referring to
    it (billing's own rule), so the segments add up to the lines to the penny. Each is a one-off (rate = the
    amount) so the compare core costs it at exactly that; its days, dates and weekly rate ride along.
    An adjustment whose line was never told (an invoice issued before lines were) stands on its own when it
    adds; one that credits cannot be a segment and is listed in `unattached` (its amount is in the total)."""
    originals = {str(l["line_id"]): l for l in lines if l["kind"] != "adjustment"}
    adjustments: dict[str, list[Mapping]] = {k: [] for k in originals}
    unattached: list[Mapping] = []
    for l in lines:
        if l["kind"] != "adjustment":
            continue
        ref = str(l["adjusts_line_id"]) if l.get("adjusts_line_id") else None
        if ref in adjustments:
            adjustments[ref].append(l)
        else:
            unattached.append(l)
    segments, credits = [], []
    stand_alone = [(l, []) for l in unattached if l["amount_pence"] >= 0]
    for line, adjs in [(l, adjustments[str(l["line_id"])]) for l in originals.values()] + stand_alone:
        adjs = sorted(adjs, key=lambda a: (a.get("period_end") or date.min, str(a["line_id"])))
        latest = adjs[-1] if adjs else line
        pence = line["amount_pence"] + sum(a["amount_pence"] for a in adjs)
        amount = money(Decimal(pence) / 100)
        segments.append({
            "setting": _setting(line["stream"], latest["rate_key"]), "length": 1, "unit": "one_off",
            "rate": amount, "rate_per": "one_off", "stated_total": amount, "source": "invoiced",
            "from": line["from_date"], "to": line["to_date"], "days": line["days"], "stream": line["stream"],
            "rate_key": latest["rate_key"],
            "weekly_rate": None if latest["weekly_pence"] is None else money(Decimal(latest["weekly_pence"]) / 100),
            "line_id": str(line["line_id"]), "invoiced": money(Decimal(line["amount_pence"]) / 100),
            "adjustments": [{"line_id": str(a["line_id"]), "amount": money(Decimal(a["amount_pence"]) / 100)}
                            for a in adjs]})
    for l in unattached:
        if l["amount_pence"] < 0:
            credits.append({"line_id": str(l["line_id"]), "amount": money(Decimal(l["amount_pence"]) / 100),
                            "from": l["from_date"], "to": l["to_date"]})
    segments.sort(key=lambda s: (s["from"], s["stream"] != "fee", s["stream"]))
    total = sum(l["amount_pence"] for l in lines)
    charged = [l for l in originals.values() if l["stream"] == "fee"]
    return {"segments": segments, "unattached": credits, "total_pence": total,
            "total": money(Decimal(total) / 100), "lines": len(lines),
            "adjustments": sum(1 for l in lines if l["kind"] == "adjustment"),
            "through": max((l["to_date"] for l in charged), default=None)}
