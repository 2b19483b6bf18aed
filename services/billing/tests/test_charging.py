"""Billing's pure core: pennies add up over any cut into periods, no day charged twice or missed, blocks,
mid-stay fee changes, back-dated phase changes after a close, open-book margin and gain share."""
from __future__ import annotations

import itertools
import math
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from services.billing.domain.charging import Stay, add_on_stream, block_days, block_stream, fee_stream
from services.billing.domain.closing import Billed, settle
from services.billing.domain.contracts import (AddOn, ContractError, FeeSchedule, OpenBook, Terms, check_schedule,
                                               check_terms, open_book_year)
from services.billing.domain.money import MoneyError, format_pence, parse_pence
from services.billing.domain.periods import next_period, period_containing, scheme_key

D = timedelta(days=1)


def half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


# --- an independent, day-by-day reference ------------------------------------------------------------
def charged_days(arrival, end, through, arrival_charged=True, leaving_charged=False):
    """Every charged day, listed one by one (no spans, no cuts)."""
    if end is not None and end == arrival:
        return [arrival] if (arrival_charged or leaving_charged) and arrival < through else []
    last = through - D if end is None else min(through - D, end if leaving_charged else end - D)
    d = arrival if arrival_charged else arrival + D
    out = []
    while d <= last:
        out.append(d)
        d += D
    return out


def weekly_on(day, phase_2_from, schedules, form="spot"):
    s = next(s for s in schedules if s.effective_from <= day and (s.effective_to is None or day <= s.effective_to))
    if form == "blended":
        return s.blended_weekly
    return s.phase_2_weekly if phase_2_from is not None and day >= phase_2_from else s.phase_1_weekly


def one_shot(days, phase_2_from, schedules, form="spot") -> int:
    return half_up(sum((Fraction(weekly_on(d, phase_2_from, schedules, form), 7) for d in days), Fraction(0)))


# --- a tiny invoice ledger: closes periods one after another, as the service does -----------------------
class Ledger:
    def __init__(self):
        self.lines = []     # dicts: id, kind, start, end, amount, refers_to
        self.ids = itertools.count(1)

    def billed(self):
        out = []
        for line in self.lines:
            if line["kind"] == "adjustment":
                continue
            adj = sum(a["amount"] for a in self.lines if a.get("refers_to") == line["id"])
            out.append(Billed(line["id"], line["start"], line["end"], line["amount"] + adj))
        return out

    def close(self, stream, period):
        s = settle(stream, self.billed(), period.start, period.end_excl)
        for kind, charges in (("charge", s.charges), ("late", s.late)):
            for c in charges:
                self.lines.append({"id": next(self.ids), "kind": kind, "start": c.start, "end": c.end,
                                   "amount": c.amount, "period": period})
        for a in s.adjustments:
            self.lines.append({"id": next(self.ids), "kind": "adjustment", "start": a.start, "end": a.end,
                               "amount": a.amount, "refers_to": a.refers_to, "period": period})
        return s

    @property
    def total(self):
        return sum(line["amount"] for line in self.lines)

    def days(self):
        out = []
        for line in self.lines:
            if line["kind"] != "adjustment":
                d = line["start"]
                while d < line["end"]:
                    out.append(d)
                    d += D
        return out


def terms(**kw) -> Terms:
    base = dict(id="c1", la_code="E10000018", form="spot", start=date(2024, 1, 1))
    return Terms(**{**base, **kw})


rates = st.integers(min_value=50_000, max_value=900_000)  # £500 - £9,000 a week, any penny
dates = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 6, 30))


@st.composite
def stays(draw):
    arrival = draw(dates)
    length = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=500)))
    end = None if length is None else arrival + timedelta(days=length)
    ext = draw(st.integers(min_value=0, max_value=90))            # Phase 1 extensions
    moves = draw(st.booleans())
    phase_2_from = arrival + timedelta(days=28 + ext) if moves else None
    n = draw(st.integers(min_value=1, max_value=4))
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=600), min_size=n - 1, max_size=n - 1,
                                unique=True)))
    starts = [date(2024, 12, 1)] + [arrival + timedelta(days=c - 100) for c in cuts]
    starts = sorted(set(starts))
    schedules = []
    for i, s in enumerate(starts):
        to = starts[i + 1] - D if i + 1 < len(starts) else None
        schedules.append(FeeSchedule(f"s{i}", s, to, draw(rates), draw(rates), draw(rates)))
    form = draw(st.sampled_from(["spot", "blended"]))
    options = dict(charge_arrival_day=draw(st.booleans()), charge_leaving_day=draw(st.booleans()))
    scheme = draw(st.sampled_from(["calendar_month", scheme_key("four_weekly", date(2024, 12, 30))]))
    return arrival, end, phase_2_from, schedules, form, options, scheme


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stays())
def test_the_periods_of_any_stay_add_up_to_the_one_shot_charge_and_no_day_is_charged_twice_or_missed(case):
    arrival, end, phase_2_from, schedules, form, options, scheme = case
    t = terms(form=form, scheme=scheme, **options)
    transitions = ((arrival, "phase_1"),) + (((phase_2_from, "phase_2"),) if phase_2_from else ())
    stay = Stay(arrival, end, transitions)
    horizon = (end or arrival + timedelta(days=400)) + timedelta(days=40)
    period, ledger = period_containing(scheme, arrival), Ledger()
    while period.start < horizon:
        stream, unpriced = fee_stream(stay, t, schedules, period.end_excl)
        assert unpriced == 0
        s = ledger.close(stream, period)
        assert not s.adjustments and not s.late  # nothing learnt late
        period = next_period(period)
    days = charged_days(arrival, end, period.start, t.charge_arrival_day, t.charge_leaving_day)
    assert sorted(ledger.days()) == days  # every charged day once, none missed, none twice
    assert ledger.total == one_shot(days, phase_2_from, schedules, form)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stays(), st.integers(min_value=0, max_value=6), st.integers(min_value=-40, max_value=40), st.data())
def test_what_is_learnt_after_a_close_is_adjusted_so_the_stay_still_adds_up(case, closes_before, shift, data):
    """Periods are closed on what was known then (no Phase 2 yet, no end, the old end date, the arrival
    itself recorded late); adjustments and late charges in later periods bring the stay to the one-shot charge."""
    arrival, end, phase_2_from, schedules, form, options, scheme = case
    t = terms(form=form, scheme=scheme, **options)
    final = Stay(arrival, end, ((arrival, "phase_1"),) + (((phase_2_from, "phase_2"),) if phase_2_from else ()))
    known_end = None if end is None else max(arrival, end + timedelta(days=shift))
    late_arrival = data.draw(st.booleans())
    early = Stay(None if late_arrival else arrival, known_end, ((arrival, "phase_1"),))
    period, ledger = period_containing(scheme, arrival), Ledger()
    for _ in range(closes_before):
        ledger.close(fee_stream(early, t, schedules, period.end_excl)[0], period)
        period = next_period(period)
    horizon = (end or arrival + timedelta(days=400)) + timedelta(days=40)
    while True:
        ledger.close(fee_stream(final, t, schedules, period.end_excl)[0], period)
        if period.start >= horizon:
            break
        period = next_period(period)
    days = charged_days(arrival, end, period.end_excl, t.charge_arrival_day, t.charge_leaving_day)
    assert ledger.total == one_shot(days, phase_2_from, schedules, form)
    # the lines in force (charges and late charges, each with its adjustments) cover each day once
    assert len(ledger.days()) == len(set(ledger.days()))
    assert set(days) <= set(ledger.days())


def test_a_mid_stay_fee_change_is_charged_from_its_date():
    t = terms()
    schedules = [FeeSchedule("old", date(2025, 1, 1), date(2025, 3, 14), 520000, 378900),
                 FeeSchedule("new", date(2025, 3, 15), None, 546000, 397800)]
    stay = Stay(date(2025, 3, 1), None, ((date(2025, 3, 1), "phase_1"),))
    stream, _ = fee_stream(stay, t, schedules, date(2025, 4, 1))
    march = stream.charges(date(2025, 3, 1), date(2025, 4, 1))
    assert [(c.start, c.last_day, c.days, c.weekly) for c in march] == [
        (date(2025, 3, 1), date(2025, 3, 14), 14, 520000), (date(2025, 3, 15), date(2025, 3, 31), 17, 546000)]
    # 14 days at £5,200/7 = £10,400.00 exactly; then 17 days at £5,460/7 = 13,260.00: £23,660.00
    assert [c.amount for c in march] == [1040000, 1326000]


def test_a_back_dated_phase_2_after_the_close_gives_the_exact_adjustment_on_the_original_line():
    t = terms()
    schedules = [FeeSchedule("s", date(2025, 1, 1), None, 520000, 378900)]
    arrival = date(2025, 1, 10)
    ledger = Ledger()
    jan = period_containing("calendar_month", date(2025, 1, 1))
    feb = next_period(jan)
    before = Stay(arrival, None, ((arrival, "phase_1"),))
    ledger.close(fee_stream(before, t, schedules, jan.end_excl)[0], jan)
    # January: 22 days at £5,200 a week: 22 x 520000 / 7 = 1634285.71.. -> £16,342.86
    assert [line["amount"] for line in ledger.lines] == [1634286]
    # in February finance learns Phase 2 started on 28 January (back-dated)
    after = Stay(arrival, None, ((arrival, "phase_1"), (date(2025, 1, 28), "phase_2")))
    s = ledger.close(fee_stream(after, t, schedules, feb.end_excl)[0], feb)
    # January should have been 18 days at 5200 + 4 days at 3789: (18x520000 + 4x378900)/7 = 1553657.14 -> 1553657
    assert [(a.refers_to, a.amount) for a in s.adjustments] == [(1, 1553657 - 1634286)]
    assert [(c.start, c.end) for c in s.adjustments[0].now] == [(date(2025, 1, 10), date(2025, 1, 28)),
                                                                (date(2025, 1, 28), date(2025, 2, 1))]
    # February: 28 days at £3,789 = £15,156.00; the stay so far adds up to the one-shot charge
    assert [c.amount for c in s.charges] == [1515600]
    assert ledger.total == half_up(Fraction(18 * 520000 + 32 * 378900, 7))


def test_an_end_date_corrected_earlier_after_the_close_credits_the_days_not_stayed():
    t = terms()
    schedules = [FeeSchedule("s", date(2025, 1, 1), None, 520000, 378900)]
    arrival, ledger = date(2025, 1, 1), Ledger()
    jan = period_containing("calendar_month", arrival)
    ledger.close(fee_stream(Stay(arrival), t, schedules, jan.end_excl)[0], jan)
    s = ledger.close(fee_stream(Stay(arrival, date(2025, 1, 21)), t, schedules, next_period(jan).end_excl)[0],
                     next_period(jan))
    assert not s.charges and s.adjustments[0].amount == 20 * 520000 // 7 - half_up(Fraction(31 * 520000, 7))
    assert ledger.total == half_up(Fraction(20 * 520000, 7))  # leaving day (21st) not charged


@pytest.mark.parametrize("children,above", [(1, 0), (2, 0), (3, 1)])
def test_a_block_of_two_beds_is_paid_in_full_under_at_and_above_and_use_above_is_spot(children, above):
    t = terms(form="block", start=date(2025, 1, 1), end=date(2025, 12, 31), block_beds=2,
              block_weekly_pence=2 * 450000)
    schedules = [FeeSchedule("s", date(2025, 1, 1), None, 520000, 378900)]
    stays = {f"p{i}": Stay(date(2025, 3, 1) + timedelta(days=i), None, ((date(2025, 3, 1), "phase_1"),))
             for i in range(children)}
    april = period_containing("calendar_month", date(2025, 4, 1))
    inside = block_days(t, stays, april.end_excl)
    block = block_stream(t, april.end_excl).charges(april.start, april.end_excl)
    # carried from the term's start: R(120 days) - R(90 days) = 15428571 - 11571429
    assert sum(c.amount for c in block) == half_up(Fraction(120 * 900000, 7)) - half_up(Fraction(90 * 900000, 7))
    assert sum(c.amount for c in block) == 3857142
    spot = 0
    for pid, stay in stays.items():
        stream, _ = fee_stream(stay, t, schedules, april.end_excl, inside[pid])
        spot += sum(c.amount for c in stream.charges(april.start, april.end_excl))
    # the block's price is the same under, at and above; the third child is charged at the spot rate
    third = stays.get("p2")
    expected = 0 if third is None else (half_up(Fraction((date(2025, 5, 1) - third.arrival).days * 520000, 7))
                                        - half_up(Fraction((date(2025, 4, 1) - third.arrival).days * 520000, 7)))
    assert spot == expected and (spot > 0) == bool(above)
    assert spot == (2228571 if above else 0)


def test_add_ons_run_on_their_own_dates_within_the_stay():
    t = terms()
    stay = Stay(date(2025, 5, 1), date(2025, 5, 20))
    addon = AddOn("a", "p", "outreach", 66000, date(2025, 5, 10), None)
    charges = add_on_stream(addon, stay, t, date(2025, 6, 1)).charges(date(2025, 5, 1), date(2025, 6, 1))
    assert [(c.start, c.end, c.amount) for c in charges] == [(date(2025, 5, 10), date(2025, 5, 20), 94286)]


def test_open_book_margin_and_gain_share_on_worked_figures():
    book = OpenBook(margin_bp=1250, annual_target_pence=80_000_000, council_share_bp=6000)
    lines = [{"home_id": "h", "category": "staff", "amount_pence": 61_234_567},
             {"home_id": "h", "category": "premises", "amount_pence": 9_876_543}]
    year = open_book_year(book, 2025, lines)
    assert year.cost_pence == 71_111_110
    assert year.margin_pence == 8_888_889          # 12.5% of £711,111.10 = £88,888.8875 -> £88,888.89
    assert year.price_pence == 79_999_999
    assert year.savings_pence == 8_888_890         # target £800,000 - cost
    assert year.council_share_pence == 5_333_334  # 60% = £53,333.34
    assert year.innovation_fund_pence == 3_555_556
    assert open_book_year(book, 2025, [{"amount_pence": 90_000_000}]).savings_pence == 0


def test_bad_terms_schedules_and_money_name_the_field_and_rule():
    with pytest.raises(ContractError) as e:
        check_terms(terms(start=date(2025, 2, 1), end=date(2025, 1, 31)))
    assert (e.value.field, e.value.rule) == ("body.end_date", "end_not_before_start")
    t = terms()
    old = FeeSchedule("a", date(2025, 1, 1), None, 1, 1)
    with pytest.raises(ContractError) as e:
        check_schedule(t, FeeSchedule("b", date(2025, 6, 1), None, 2, 2), [old])
    assert (e.value.field, e.value.rule) == ("body.effective_from", "no_overlap")
    check_schedule(t, FeeSchedule("b", date(2024, 6, 1), date(2024, 12, 31), 2, 2), [old])
    for amount, currency, rule in [("5200.001", "GBP", "whole_pence"), ("5200", "EUR", "currency_gbp"),
                                   ("-1", "GBP", "positive"), ("5,200", "GBP", "decimal_string")]:
        with pytest.raises(MoneyError) as m:
            parse_pence(amount, currency, "body.phase_1_weekly")
        assert m.value.rule == rule
    assert parse_pence("5200.10", "GBP", "f") == 520010 and parse_pence("3789.500", "GBP", "f") == 378950
    assert format_pence(-150) == "-1.50" and format_pence(520000) == "5200.00"
