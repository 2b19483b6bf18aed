"""Fee periods at the calendar's edges: a period that would end after 9999-12-31 is refused with a named rule (a
close of December 9999 answered 500: its month end was computed in year 10000); the first periods there are
still periods."""
from __future__ import annotations

from datetime import date

import pytest

from services.billing.domain.periods import PeriodError, period_containing, period_starting


@pytest.mark.parametrize("scheme, start", [("calendar_month", date(9999, 12, 1)),
                                           ("four_weekly@2026-01-05", date(9999, 12, 20))])
def test_a_period_ending_after_the_calendars_last_day_is_refused_by_name(scheme, start):
    anchor = date(2026, 1, 5)
    if scheme.startswith("four_weekly"):  # the last four-weekly start of the calendar from this anchor
        start = date.fromordinal(anchor.toordinal() + (start.toordinal() - anchor.toordinal()) // 28 * 28)
        assert (start - anchor).days % 28 == 0 and start.toordinal() + 27 > date.max.toordinal()
    with pytest.raises(PeriodError) as refused:
        period_starting(scheme, start)
    assert (refused.value.field, refused.value.rule) == ("body.period_start", "period_in_calendar")


def test_the_calendars_first_and_last_whole_periods_are_periods():
    assert period_starting("calendar_month", date(1, 1, 1)).end == date(1, 1, 31)
    assert period_starting("calendar_month", date(9999, 11, 1)).end == date(9999, 11, 30)
    assert period_containing("calendar_month", date(2028, 2, 29)).end == date(2028, 2, 29)
