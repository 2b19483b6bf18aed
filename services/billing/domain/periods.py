"""Fee periods: calendar months by default, four-weekly (28 days from an anchor date) as a contract option.
A scheme key names a sequence of periods: 'calendar_month' or 'four_weekly@2025-01-06'."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

CALENDAR_MONTH = "calendar_month"
FOUR_WEEKLY = "four_weekly"
KINDS = (CALENDAR_MONTH, FOUR_WEEKLY)


class PeriodError(ValueError):
    def __init__(self, field: str, rule: str, message: str):
        super().__init__(message)
        self.field = field
        self.rule = rule


@dataclass(frozen=True)
class Period:
    scheme: str
    start: date
    end: date  # the last day, inclusive

    @property
    def end_excl(self) -> date:
        return self.end + timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def scheme_key(kind: str, anchor: date | None = None) -> str:
    if kind == CALENDAR_MONTH:
        return CALENDAR_MONTH
    if kind == FOUR_WEEKLY:
        if anchor is None:
            raise PeriodError("body.period.anchor", "required", "a four-weekly scheme needs an anchor date")
        return f"{FOUR_WEEKLY}@{anchor.isoformat()}"
    raise PeriodError("body.period.kind", "period_kind", f"one of {', '.join(KINDS)}")


def parse_scheme(key: str, field: str = "body.scheme") -> tuple[str, date | None]:
    if key == CALENDAR_MONTH:
        return CALENDAR_MONTH, None
    kind, _, anchor = key.partition("@")
    if kind == FOUR_WEEKLY:
        try:
            return FOUR_WEEKLY, date.fromisoformat(anchor)
        except ValueError:
            pass
    raise PeriodError(field, "scheme", "'calendar_month' or 'four_weekly@YYYY-MM-DD'")


def _month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def period_starting(scheme: str, start: date, field: str = "body.period_start") -> Period:
    """The period of a scheme that starts on `start`; a date that starts none is refused, and so is a period that
    would end after the calendar's last day (9999-12-31: a close of December 9999 answered 500)."""
    kind, anchor = parse_scheme(scheme)
    if kind == CALENDAR_MONTH:
        if start.day != 1:
            raise PeriodError(field, "period_boundary", "a calendar-month period starts on the 1st")
    elif (start - anchor).days % 28:
        raise PeriodError(field, "period_boundary", f"four-weekly periods start every 28 days from {anchor}")
    try:
        return Period(scheme, start, _month_end(start) if kind == CALENDAR_MONTH else start + timedelta(days=27))
    except (ValueError, OverflowError):
        raise PeriodError(field, "period_in_calendar", f"a period that ends by {date.max}") from None


def period_containing(scheme: str, day: date) -> Period:
    kind, anchor = parse_scheme(scheme)
    if kind == CALENDAR_MONTH:
        return period_starting(scheme, day.replace(day=1))
    offset = (day - anchor).days // 28
    return period_starting(scheme, anchor + timedelta(days=28 * offset))


def next_period(period: Period) -> Period:
    return period_starting(period.scheme, period.end_excl)


def periods_between(scheme: str, first: date, last: date) -> list[Period]:
    """Every period of the scheme touching [first, last]."""
    out = [period_containing(scheme, first)]
    while out[-1].end < last:
        out.append(next_period(out[-1]))
    return out
