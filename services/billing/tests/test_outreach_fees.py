"""Outreach money (pure): weekly outreach by day, the fixed fee once in the period it starts, the yearly retainer in
12 monthly parts covering the first N fixed-fee interventions of each contract year; cut into periods, every stream
adds up to the one-shot charge, and a change learnt after a close is an adjustment, never a changed line."""
from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from services.billing.domain.closing import Billed, settle
from services.billing.domain.contracts import FeeSchedule, Terms
from services.billing.domain.outreach import (FIXED, RETAINER, WEEKLY, Outreach, contract_year, line_span,
                                              outreach_contract_for, outreach_stream, retainer_covered,
                                              retainer_parts, retainer_stream)

WEEKLY_FEE, FIXED_FEE = 66000, 1000000
TERMS = Terms(id="c1", la_code="E10000018", form="spot", start=date(2026, 1, 1))
SCHEDULE = FeeSchedule("s1", date(2026, 1, 1), None, 520000, 378900, None, WEEKLY_FEE, FIXED_FEE)
FAR = date(2030, 1, 1)


def months(first: date, n: int) -> list[tuple[date, date]]:
    out, m = [], first
    for _ in range(n):
        nxt = (m + timedelta(days=32)).replace(day=1)
        out.append((m, nxt))
        m = nxt
    return out


def test_weekly_outreach_is_charged_by_day_from_the_start_to_the_close_and_adds_up_over_periods():
    o = Outreach("i1", "E10000018", "weekly", 26, date(2026, 2, 10), date(2026, 8, 11))
    stream, unpriced = outreach_stream(o, TERMS, [SCHEDULE], FAR)
    assert unpriced == 0 and [(p.start, p.end, p.key) for p in stream.pieces] == [(o.start, o.end, WEEKLY)]
    days = (o.end - o.start).days                       # the start day charged, the close day not
    assert stream.total(FAR) == round(Fraction(days * WEEKLY_FEE, 7))
    feb = stream.charges(date(2026, 2, 1), date(2026, 3, 1))
    assert [(c.days, c.weekly) for c in feb] == [(19, WEEKLY_FEE)]
    assert feb[0].amount == round(Fraction(19 * WEEKLY_FEE, 7))
    assert sum(stream.amount(a, b) for a, b in months(date(2026, 2, 1), 8)) == stream.total(FAR)


def test_a_schedule_change_part_way_cuts_the_weekly_rate_and_days_without_a_rate_are_unpriced():
    first = FeeSchedule("a", date(2026, 1, 1), date(2026, 3, 31), None, None, None, 60000, None)
    second = FeeSchedule("b", date(2026, 5, 1), None, None, None, None, 70000, None)
    o = Outreach("i1", "E10000018", "weekly", 26, date(2026, 3, 25), date(2026, 5, 8))
    stream, unpriced = outreach_stream(o, TERMS, [first, second], FAR)
    assert [(p.start, p.end, p.weekly) for p in stream.pieces] == [
        (date(2026, 3, 25), date(2026, 4, 1), 60000), (date(2026, 5, 1), date(2026, 5, 8), 70000)]
    assert unpriced == 30


def test_the_fixed_fee_is_charged_once_in_the_period_holding_the_start_day_whatever_the_outcome():
    o = Outreach("i1", "E10000018", "fixed_fee", 6, date(2026, 3, 30), date(2026, 4, 3))
    stream, _ = outreach_stream(o, TERMS, [SCHEDULE], FAR)
    assert [(c.start, c.key, c.amount) for c in stream.charges(date(2026, 3, 1), date(2026, 4, 1))] == [
        (date(2026, 3, 30), FIXED, FIXED_FEE)]
    assert stream.charges(date(2026, 4, 1), date(2026, 5, 1)) == []
    assert line_span(FIXED, o.start, outreach=o) == (date(2026, 3, 30), date(2026, 5, 11))   # its six weeks
    not_started = Outreach("i2", "E10000018", "fixed_fee", 6, None, date(2026, 4, 3))
    assert outreach_stream(not_started, TERMS, [SCHEDULE], FAR)[0].empty
    assert outreach_stream(o, TERMS, [], FAR) [1] == 1     # no fixed fee in force: one case left unpriced


def test_a_retainer_is_charged_in_twelve_parts_adding_up_to_the_yearly_fee():
    terms = Terms(id="r", la_code="E10000018", form="spot", start=date(2026, 4, 1), retainer_interventions=3,
                  retainer_yearly_pence=10000001)
    parts = retainer_parts(terms, date(2027, 4, 1))
    assert len(parts) == 12 and sum(p[2] for p in parts) == 10000001
    assert parts[0][:2] == (date(2026, 4, 1), date(2026, 5, 1)) and parts[-1][:2] == (date(2027, 3, 1), date(2027, 4, 1))
    stream = retainer_stream(terms, date(2027, 4, 1))
    assert [stream.amount(a, b) for a, b in months(date(2026, 4, 1), 12)] == [p[2] for p in parts]
    assert line_span(RETAINER, date(2026, 7, 1), terms=terms) == (date(2026, 7, 1), date(2026, 8, 1))
    assert [contract_year(terms, d) for d in (date(2026, 4, 1), date(2027, 3, 31), date(2027, 4, 1))] == [0, 0, 1]


def test_a_retainer_covers_the_first_n_fixed_fee_interventions_of_each_contract_year():
    terms = Terms(id="r", la_code="E10000018", form="spot", start=date(2026, 4, 1), retainer_interventions=2,
                  retainer_yearly_pence=12000000)
    ivs = [Outreach(f"i{n}", "E10000018", "fixed_fee", 6, d) for n, d in enumerate(
        [date(2026, 5, 1), date(2026, 4, 20), date(2026, 9, 1), date(2027, 4, 2)])]
    ivs.append(Outreach("w", "E10000018", "weekly", 26, date(2026, 4, 2)))   # weekly outreach is never covered
    assert retainer_covered(terms, ivs) == {"i1": 1, "i0": 2, "i3": 1}
    stream, _ = outreach_stream(ivs[2], terms, [SCHEDULE], FAR, covered=False)
    assert stream.total(FAR) == FIXED_FEE           # beyond the N: per case at the fixed fee
    covered, _ = outreach_stream(ivs[0], terms, [SCHEDULE], FAR, covered=True)
    assert [(c.key, c.amount) for c in covered.charges(date(2026, 5, 1), date(2026, 6, 1))] == [(RETAINER, 0)]


def test_the_contract_that_buys_outreach_on_the_start_day_charges_it():
    beds_only = Terms(id="beds", la_code="E10000018", form="spot", start=date(2026, 6, 1))
    retainer = Terms(id="ret", la_code="E10000018", form="spot", start=date(2025, 1, 1), retainer_interventions=1,
                     retainer_yearly_pence=100)
    schedules = {"c1": [SCHEDULE], "beds": [FeeSchedule("x", date(2026, 6, 1), None, 1, 1)]}
    assert outreach_contract_for([TERMS, beds_only, retainer], schedules, "E10000018", date(2026, 7, 1)).id == "c1"
    assert outreach_contract_for([beds_only, retainer], schedules, "E10000018", date(2026, 7, 1)).id == "ret"
    assert outreach_contract_for([beds_only], schedules, "E10000018", date(2026, 7, 1)) is None
    assert outreach_contract_for([TERMS], schedules, "E06000016", date(2026, 7, 1)) is None


def test_a_close_learnt_after_the_period_closed_is_an_adjustment_on_the_original_line():
    start = date(2026, 2, 10)
    running = Outreach("i1", "E10000018", "weekly", 26, start)
    feb = settle(outreach_stream(running, TERMS, [SCHEDULE], date(2026, 3, 1))[0], [], date(2026, 2, 1),
                 date(2026, 3, 1))
    mar = settle(outreach_stream(running, TERMS, [SCHEDULE], date(2026, 4, 1))[0],
                 [Billed("feb", start, date(2026, 3, 1), feb.total)], date(2026, 3, 1), date(2026, 4, 1))
    # the close is recorded in April, back-dated to 20 February: March's line is credited, February's adjusted
    closed = Outreach("i1", "E10000018", "weekly", 26, start, date(2026, 2, 20))
    stream = outreach_stream(closed, TERMS, [SCHEDULE], date(2026, 5, 1))[0]
    april = settle(stream, [Billed("feb", start, date(2026, 3, 1), feb.total),
                            Billed("mar", date(2026, 3, 1), date(2026, 4, 1), mar.total)], date(2026, 4, 1),
                   date(2026, 5, 1))
    assert april.charges == [] and [a.refers_to for a in april.adjustments] == ["feb", "mar"]
    assert feb.total + mar.total + april.total == stream.total(FAR) == round(Fraction(10 * WEEKLY_FEE, 7))


def test_a_council_s_outreach_only_contract_never_takes_its_placements():
    from services.billing.domain.contracts import contract_for
    beds = Terms(id="beds", la_code="E10000018", form="spot", start=date(2025, 1, 1))
    retainer = Terms(id="ret", la_code="E10000018", form="spot", start=date(2026, 1, 1), retainer_interventions=4,
                     retainer_yearly_pence=3600000)
    outreach = Terms(id="out", la_code="E10000018", form="spot", start=date(2026, 2, 1))
    schedules = {"beds": [FeeSchedule("b", date(2025, 1, 1), None, 520000, 378900)],
                 "ret": [FeeSchedule("r", date(2026, 1, 1), None, None, None, None, None, FIXED_FEE)],
                 "out": [FeeSchedule("o", date(2026, 2, 1), None, None, None, None, WEEKLY_FEE)]}
    contracts = [beds, retainer, outreach]
    assert contract_for(contracts, "E10000018", date(2026, 3, 1), schedules).id == "beds"
    assert contract_for(contracts, "E10000018", date(2026, 3, 1)).id == "out"       # without schedules: as before
    assert outreach_contract_for(contracts, schedules, "E10000018", date(2026, 3, 1)).id == "out"
    new = Terms(id="new", la_code="E10000018", form="spot", start=date(2026, 2, 15))  # no schedule yet: beds
    assert contract_for(contracts + [new], "E10000018", date(2026, 3, 1), schedules).id == "new"
