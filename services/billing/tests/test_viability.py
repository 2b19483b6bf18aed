"""Viability: occupancy by day, break-even occupancy, and the ramp-up month a new home breaks even."""
from datetime import date

from services.billing.domain.charging import Piece, Stream
from services.billing.domain.viability import monthly, occupancy_by_day, ramp_up


def test_a_three_bed_home_breaks_even_in_month_three_under_a_one_two_three_ramp():
    months, first = ramp_up(3, 520000, 378900, 4_000_000, date(2025, 1, 1), 6)
    assert [(m.phase_1_children, m.phase_2_children) for m in months[:4]] == [(1, 0), (1, 1), (1, 2), (1, 2)]
    # January: 31 days x 5200/7 = 23,028.57; February: 28 x (5200+3789)/7 = 35,956.00; March 31 x 12778/7 = 56,588.29
    assert [m.revenue_pence for m in months[:3]] == [2302857, 3595600, 5658829]
    assert first == 3


def test_occupancy_by_day_and_break_even_occupancy():
    spans = [(date(2025, 4, 1), date(2025, 4, 11)), (date(2025, 4, 6), date(2025, 5, 1))]
    days = occupancy_by_day(spans, date(2025, 4, 1), date(2025, 4, 8))
    assert [n for _, n in days] == [1, 1, 1, 1, 1, 2, 2]
    stream = Stream([Piece(date(2025, 4, 1), date(2025, 5, 1), 700000, "phase_2")])  # £1,000 a day
    (april,) = monthly([stream], spans, 3, date(2025, 4, 1), date(2025, 4, 1), {date(2025, 4, 1): 4_500_000})
    assert april.occupied_bed_days == 35 and april.revenue_by_kind == {"phase_2": 3_000_000}
    # revenue per occupied bed-day = 30000/35 pence; cost 45000 needs 52.5 bed-days of 90: 0.5833
    assert round(april.break_even_occupancy, 4) == round(4_500_000 / (3_000_000 / 35 * 90), 4)
