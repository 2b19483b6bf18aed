"""Start-up does the one-time work (libs/common/web.py warm_up) before the lifespan yields, so before
/health/ready can answer: every route's request handling built, the bank holidays loaded. Without it the
first request paid them (the dashboard's first page load: about 0.2 s more; make bench-dashboard)."""
from __future__ import annotations

from datetime import datetime, timezone

from itp.system import migrate_all, settings_for
from itp.testing import running
from services.assessment.app import create_app
from services.assessment.domain.calendar import _bank_holidays


def lazy_routers(app) -> list:
    """The included routers FastAPI builds on their first request (none on a FastAPI that builds eagerly)."""
    return [r for r in app.router.routes if hasattr(r, "effective_route_contexts")]


def built(router) -> bool:
    return getattr(router, "_effective_candidates_version", 0) is not None


async def test_start_up_builds_the_routes_and_loads_the_holidays_before_ready(tmp_path):
    overrides = dict(transport="inprocess", data_dir=tmp_path / "data", scheduler_enabled=False)
    await migrate_all(("assessment",), **overrides)
    year = datetime.now(timezone.utc).year

    cold = create_app(settings_for("assessment", warm_up=False, **overrides))
    _bank_holidays.cache_clear()
    async with running(cold):
        assert not any(built(r) for r in lazy_routers(cold))  # the suite's setting: left to the first request
        assert _bank_holidays.cache_info().currsize == 0

    warm = create_app(settings_for("assessment", warm_up=True, **overrides))
    async with running(warm):
        assert all(built(r) for r in lazy_routers(warm))
        assert _bank_holidays.cache_info().currsize == 3  # last year, this year and next
        hits = _bank_holidays.cache_info().hits
        for y in (year - 1, year, year + 1):
            _bank_holidays(y)
        assert _bank_holidays.cache_info().hits == hits + 3  # found, not computed now
