"""Headless Chromium (Debian's package at /usr/bin/chromium) driven by Playwright from PyPI, against `itp run`
on the demo region. Never `playwright install`: the browser is the system's. Missing browser or Playwright:
skipped locally, a failure under ITP_REQUIRE_INTEGRATION=1 (CI)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.support import unavailable
from tests.support.processes import start_embedded, stop

CHROMIUM = os.environ.get("ITP_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / ".artifacts" / "screenshots"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, demo_region_data):
    """`itp run` (what `make run` starts) on a free port: the demo region seeded, the gateway serving /dashboard."""
    base, proc = start_embedded(tmp_path_factory.mktemp("dashboard"), seeded=demo_region_data)
    yield base
    stop(proc)


@pytest.fixture(scope="module")
def browser():
    """Module-scoped: sync Playwright runs its own event loop on this thread, which must be gone before the
    suite's async tests run theirs."""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        unavailable("Chromium", f"{CHROMIUM} is missing (make test installs Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright", "not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium"),
                               args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    pg = context.new_page()
    yield pg
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
