"""The hub dashboard in a real browser on the demo region: what the hub team, a home manager and finance do.
Each test saves a screenshot in .artifacts/screenshots/<test name>.png; every page visited passes axe-core with
no serious or critical violation."""
from __future__ import annotations

import re

import httpx
import pytest

from services.matching.seed import BLUEPRINT_HOME_ID

pytestmark = pytest.mark.integration


def accessible(page) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [(v["id"], v["impact"], v["help"]) for v in results.response["violations"]
           if v["impact"] in ("serious", "critical")]
    assert not bad, f"{page.url}: {bad}"


def sign_in(page, base: str, client_id: str) -> None:
    page.goto(f"{base}/dashboard")
    accessible(page)
    page.get_by_label("Client id").fill(client_id)
    page.get_by_label("Client secret").fill(f"{client_id}-secret")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_the_hub_accepts_a_crisis_referral_into_a_free_pathway_bed(page, demo_server):
    sign_in(page, demo_server, "demo-hub")
    # the board: the demo region's homes and beds
    assert page.url.endswith("/dashboard/board")
    assert page.get_by_role("heading", name="Charnwood View").is_visible()
    assert page.get_by_text("Free Pathway Bed").first.is_visible()
    assert page.get_by_text("Registration suspended").is_visible() and page.get_by_text("Onboarding").first.is_visible()
    assert page.get_by_text("LCC-2025-0107").is_visible()  # a child's council reference, never a name
    accessible(page)
    # the queue: crisis first, with its clock
    page.get_by_role("link", name="Referral queue").click()
    accessible(page)
    rows = page.locator("tbody tr")
    assert "Crisis" in rows.first.inner_text()
    page.get_by_role("link", name="LC-2026-0311").click()
    # the impact risk assessment: ranked options with reasons and mitigations
    page.get_by_role("heading", name="Impact risk assessment").wait_for()
    assert page.get_by_text("Why this rank").first.is_visible()
    assert page.get_by_text("Mitigations needed").first.is_visible()
    accessible(page)
    first = page.locator("section.option").first
    home = first.get_attribute("data-home")
    first.get_by_role("button", name=re.compile("^Accept into")).click()
    page.get_by_text("Decision recorded: Accepted").wait_for()
    assert page.get_by_role("heading", name="Accepted").is_visible()
    assert page.get_by_text("Reserved").first.is_visible()
    for _ in range(40):  # the placement appears once assessment has the admission.accepted event
        if page.get_by_role("link", name="Open the placement").count():
            break
        page.wait_for_timeout(250)
        page.reload()
    page.get_by_role("link", name="Open the placement").click()
    page.get_by_role("heading", name="Phase timeline").wait_for()
    assert "LC-2026-0311" in page.content()
    accessible(page)
    # the board shows the bed reserved in that home
    page.get_by_role("link", name="Homes and beds").click()
    card = page.locator("section.card", has=page.get_by_role("heading", name=home, exact=True))
    assert card.get_by_text("Reserved").first.is_visible()
    assert card.get_by_text("LC-2026-0311").is_visible()


def test_a_home_manager_sees_their_home_only(page, demo_server):
    hub = httpx.post(f"{demo_server}/oauth/token", data={"grant_type": "client_credentials"},
                     auth=("demo-hub", "demo-hub-secret")).json()["access_token"]
    placements = httpx.get(f"{demo_server}/v1/placements", params={"limit": 200},
                           headers={"Authorization": f"Bearer {hub}"}).json()["items"]
    elsewhere = next(p for p in placements if p["home_id"] != BLUEPRINT_HOME_ID)
    sign_in(page, demo_server, "demo-home-manager")
    cards = page.locator("section.card h2")
    assert cards.all_inner_texts() == ["Beaumont House (demo)"]
    accessible(page)
    page.get_by_role("link", name="Deadlines").click()
    accessible(page)
    assert page.get_by_role("link", name="Referral queue").count() == 0
    page.goto(f"{demo_server}/dashboard/placements/{elsewhere['id']}")
    assert page.get_by_role("heading", name="Not available").is_visible()
    page.goto(f"{demo_server}/dashboard/referrals")
    assert page.get_by_text("not available to your role").is_visible()


def test_finance_closes_a_fee_period_and_downloads_an_invoice(page, demo_server):
    sign_in(page, demo_server, "demo-finance")
    assert page.url.endswith("/dashboard/finance")
    accessible(page)
    button = page.get_by_role("button", name=re.compile("^Close "))
    month = button.inner_text().removeprefix("Close ")
    button.click()
    page.get_by_text(re.compile(r"Fee period \d{4}-\d{2} closed")).wait_for()
    assert page.locator("table", has_text="latest closed fee periods").get_by_text(month).first.is_visible()
    assert page.get_by_role("img").first.is_visible()  # the viability chart (inline SVG)
    accessible(page)
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile(r"as PDF$")).first.click()
    download = info.value
    assert download.suggested_filename.startswith("INV-") and download.suggested_filename.endswith(".pdf")
    assert open(download.path(), "rb").read(5) == b"%PDF-"


def test_the_board_at_tablet_width(browser, demo_server, request):
    context = browser.new_context(viewport={"width": 820, "height": 1180})
    page = context.new_page()
    try:
        sign_in(page, demo_server, "demo-hub")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.keyboard.press("Tab")  # the skip link comes first for keyboard users
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        accessible(page)
    finally:
        from tests.browser.conftest import SCREENSHOTS
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
        context.close()


def test_the_hub_reads_outcomes_and_a_childs_sdq_chart(page, demo_server):
    sign_in(page, demo_server, "demo-hub")
    page.get_by_role("link", name="Outcomes").click()
    page.get_by_role("heading", name="Cohort progress").wait_for()
    assert page.get_by_role("img", name=re.compile("^Mean change in SDQ total difficulties by home")).is_visible()
    assert page.get_by_role("heading", name="Sufficiency report").is_visible()
    assert page.get_by_role("img", name=re.compile("^Referrals by need")).is_visible()
    accessible(page)
    page.get_by_label("Group by").select_option("council")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("table", name=re.compile("Cohort progress by council")).wait_for()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the sufficiency report (CSV)").click()
    with open(info.value.path(), encoding="utf-8") as f:
        assert f.readline().strip() == "figure,value"
    page.set_viewport_size({"width": 820, "height": 1180})  # tablet width: tables scroll inside their region
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    accessible(page)
    from tests.browser.conftest import SCREENSHOTS
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "test_the_outcomes_page_at_tablet_width.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("link", name="Homes and beds").click()
    page.get_by_role("link", name="LCC-2025-0107").click()
    chart = page.get_by_role("img", name=re.compile("^SDQ total difficulties over time against its bands"))
    chart.wait_for()
    assert "Baseline" in chart.get_attribute("aria-label") and "Very high" in page.content()
    assert page.get_by_role("table", name=re.compile("^Measurement points")).is_visible()
    chart.scroll_into_view_if_needed()
    accessible(page)


def test_the_hub_reads_the_outreach_teams_and_the_return_on_investment(page, demo_server):
    sign_in(page, demo_server, "demo-hub")
    page.get_by_role("link", name="Outreach").click()
    page.get_by_role("heading", name="Teams").wait_for()
    teams = page.get_by_role("table", name="Outreach teams and their caseloads")
    assert teams.get_by_text("Leicestershire outreach team").is_visible()
    assert teams.get_by_text("3 of 3").is_visible()                      # Nottingham's team is full
    assert page.get_by_role("img", name=re.compile("^Open interventions per team")).is_visible()
    for _ in range(40):  # the closed interventions' follow-ups reach outcomes by event
        if page.get_by_text("LC-2025-0470").count():
            break
        page.wait_for_timeout(250)
        page.reload()
    assert page.get_by_role("img", name=re.compile("^Return on investment per team")).is_visible()
    assert page.get_by_role("table", name="Outreach evidence per council").is_visible()
    assert page.get_by_role("table", name="Interventions").get_by_text("LC-2025-0470").is_visible()
    accessible(page)
    # the hub changes the assumed cost of a breakdown for a council: the figures follow
    page.get_by_label("New cost for E06000016 (£)").fill("60000.00")
    page.locator("form", has=page.get_by_label("New cost for E06000016 (£)")).get_by_role("button").click()
    page.get_by_text("Assumed cost of a breakdown changed for E06000016").wait_for()
    assert page.get_by_role("table", name="The assumed cost of a breakdown per council").get_by_text(
        "£60,000.00").is_visible()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download the outreach report (CSV)").click()
    with open(info.value.path(), encoding="utf-8") as f:
        assert f.readline().startswith("level,id,la_code,team_id")
    accessible(page)


def test_the_queue_updates_itself_when_a_referral_arrives(page, demo_server):
    """Live updates without reloading: the queue polls its fragment (every 10 s) and swaps the new row in."""
    page.clock.install()  # the page's timers run on a clock the test moves: the 10 s to the next poll are not waited
    sign_in(page, demo_server, "demo-hub")
    page.get_by_role("link", name="Referral queue").click()
    page.locator("tbody tr").first.wait_for()
    page.evaluate("window.__loaded_once = true")  # gone if the page reloads
    council = httpx.post(f"{demo_server}/oauth/token", data={"grant_type": "client_credentials"},
                         auth=("demo-leicester", "demo-leicester-secret")).json()["access_token"]
    r = httpx.post(f"{demo_server}/v1/referrals", headers={"Authorization": f"Bearer {council}",
                                                           "Idempotency-Key": "browser-live-1"}, json={
        "child_ref": "LC-LIVE-0001", "date_of_birth": "2012-03-14", "sex": "female", "home_postcode": "LE4 6AB",
        "urgency": "crisis", "needs": [{"code": "mental_health", "severity": "high"}],
        "social_worker": {"name": "Demo Worker", "email": "worker@example.gov.uk"}})
    assert r.status_code in (200, 201), r.text
    page.clock.run_for(10_000)  # the queue's next poll (the referral is in the list as soon as it is made)
    page.get_by_role("link", name="LC-LIVE-0001").wait_for(timeout=25000)
    assert page.evaluate("window.__loaded_once") is True
    accessible(page)
