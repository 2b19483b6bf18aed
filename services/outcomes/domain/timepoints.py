"""When each measurement point of a placement falls due. Pure.

Points (domain.md, "Outcomes and value"): the baseline at admission, day 28, the 90-day review, every 6
months after it, and the ending. Day 1 is the arrival day (as in assessment's schedule). A point is met when
every measure group is recorded at it; until then it is upcoming, due soon (within DUE_SOON_DAYS) or overdue.
- baseline:       due by day 7 (the first week: the child settles before a questionnaire)
- day_28:         due on day 28 (the Initial Pathway Plan's day)
- day_90:         due on day 90 (the mandatory 90-day review)
- six_monthly_N:  due 6 x N months after day 90 (alongside the later reviews), while the placement runs
- ending:         due 14 days after the last day, once the placement has ended
"""
from __future__ import annotations

import calendar
from datetime import date, timedelta

from libs.common.deadlines import deadline_state

BASELINE_DUE_DAY = 7
DAY_28 = 28
DAY_90 = 90
SIX_MONTHS = 6
ENDING_GRACE_DAYS = 14
DUE_SOON_DAYS = 3
MEASURES = ("sdq", "education", "health", "stability")


def day_of(arrival: date, n: int) -> date:
    return arrival + timedelta(days=n - 1)


def add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def points(arrival: date, end: date | None, today: date) -> list[tuple[str, date]]:
    """Every point of the placement up to its end (or up to the next six-monthly point ahead of today)."""
    out = [("baseline", day_of(arrival, BASELINE_DUE_DAY)), ("day_28", day_of(arrival, DAY_28)),
           ("day_90", day_of(arrival, DAY_90))]
    out = [(name, due) for name, due in out if end is None or due <= end or name == "baseline"]
    first = day_of(arrival, DAY_90)
    n = 1
    while True:
        due = add_months(first, SIX_MONTHS * n)
        if end is not None and due > end:
            break
        out.append((f"six_monthly_{n}", due))
        if end is None and due > today:
            break   # a running placement shows the next six-monthly point ahead, not all of them
        n += 1
    if end is not None:
        out.append(("ending", end + timedelta(days=ENDING_GRACE_DAYS)))
    return out


# After a step-down: optional follow-up measures of whether the child's new placement held (not deadlines: the
# child has left; recorded when the home or the council hears). Read by progress.step_down_evidence.
FOLLOW_UPS = ("follow_up_3_months", "follow_up_6_months", "follow_up_12_months")


def timepoint_names_valid(name: str) -> bool:
    if name in ("baseline", "day_28", "day_90", "ending") or name in FOLLOW_UPS:
        return True
    return name.startswith("six_monthly_") and name[12:].isascii() and name[12:].isdigit() and int(name[12:]) >= 1


def state(due: date, met: bool, today: date) -> str:
    return deadline_state(due, met, today, DUE_SOON_DAYS)


def deadline_key(placement_id: str, timepoint: str) -> str:
    return f"{placement_id}:measure:{timepoint}"
