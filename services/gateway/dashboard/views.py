"""The hub dashboard at /dashboard: server-rendered pages over the public /v1 API (called through the gateway's
own app with the signed-in user's token). Not part of the API: every route is left out of the OpenAPI document.

Session: sign-in trades the user's client credentials at /oauth/token for an access token, kept in an HttpOnly,
SameSite=Strict cookie scoped to /dashboard (the secret is never stored). Forms carry a CSRF token that must
match a second HttpOnly, SameSite=Strict cookie (double submit), and a cross-origin Origin is refused."""
from __future__ import annotations

import hmac
import secrets
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from libs.common.auth import InvalidToken

from .api import Api, ApiError, items
from .session import SESSION_COOKIE, fresh_access_token, mint_session, needs_refresh, session_seconds
from .html import (
    INFORMANT_NAMES,
    badge,
    bar_chart,
    e,
    label,
    page,
    pounds,
    sdq_chart,
    section_diff,
    setting,
    table,
    timeline_chart,
    viability_chart,
    waited,
)
from .static import CSS, JS

router = APIRouter(prefix="/dashboard", include_in_schema=False)
SESSION, CSRF = "itp_session", "itp_csrf"
HOME_ROLES = ("hub", "home_manager", "provider_admin")
DECLINE_REASONS = {"risk_to_current_group": "Risk to the current group", "needs_beyond_registration":
                   "Needs beyond the home's registration", "no_vacancy": "No vacancy", "staffing": "Staffing",
                   "other": "Other (say why)"}
OUTREACH_DECLINE_REASONS = {"no_team_capacity": "No outreach team has capacity",
                            "outside_reach": "Outside every team's reach", "staffing": "Staffing",
                            "other": "Other (say why)"}
RATING_KIND = {"low": "green", "medium": "amber", "high": "red", "unacceptable": "red"}
URGENCY_KIND = {"crisis": "red", "urgent": "amber", "planned": "neutral"}
DEADLINE_KIND = {"overdue": "red", "due_soon": "amber", "upcoming": "neutral"}
GROUP_NAMES = {"sdq": "SDQ", "education": "Education", "health": "Health", "stability": "Stability"}
CRISIS_TARGET_SECONDS = 4 * 3600  # a crisis referral waiting longer than this shows its clock in red


class SignInNeeded(Exception):
    pass


class Forbidden(Exception):
    pass


# --- session ----------------------------------------------------------------------------------------
def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _csrf_of(request: Request) -> str:
    return request.cookies.get(CSRF) or ""


async def _user(request: Request) -> dict:
    """The signed-in user. An access token expired (or about to) is re-minted from the session cookie within the
    session limit (session.py); the response then carries it (_keep)."""
    verifier = request.app.state.runtime.verifier
    token = request.cookies.get(SESSION)
    principal = None
    if token:
        try:
            principal = await verifier.verify(token)
        except InvalidToken:
            principal = None
    if needs_refresh(request.app, principal):
        fresh = await fresh_access_token(request)
        if fresh is not None:
            token, principal = fresh, await verifier.verify(fresh)
            request.state.dashboard_token = fresh
        elif principal is None:
            raise SignInNeeded
    if principal.is_council or principal.role not in ("hub", "home_manager", "finance", "provider_admin"):
        raise SignInNeeded
    return {"token": token, "role": principal.role, "client_id": principal.client_id, "homes": principal.homes,
            "outcomes": principal.allows("outcomes:read")}


def _keep(request: Request, resp: Response) -> Response:
    """Carry a re-minted access token back to the browser."""
    fresh = getattr(request.state, "dashboard_token", None)
    if fresh:
        resp.set_cookie(SESSION, fresh, max_age=session_seconds(request.app.state.runtime.settings), httponly=True,
                        samesite="strict", secure=_secure(request), path="/dashboard")
    return resp


def _allow(user: dict, *roles: str) -> None:
    if user["role"] not in roles:
        raise Forbidden


async def _check_form(request: Request) -> dict:
    """The posted form, after the CSRF and origin checks."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        raise Forbidden
    form = await _form(request)
    sent, expected = str(form.get("csrf", "")), _csrf_of(request)
    if not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden
    return form


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form (the dashboard's forms post nothing else), first value of each field."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        raise Forbidden
    body = (await request.body())[:65536].decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True, max_num_fields=50).items()}


def _html(content: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(content, status_code=status, headers={"Cache-Control": "no-store"})


async def _render(request: Request, title: str, build, *, roles: tuple[str, ...], current: str = "",
                  live: str = "", fragment: bool = False):
    """Runs build(api, user) -> body HTML as the signed-in user; sign-in, role and API errors become pages."""
    return _keep(request, await _render_page(request, title, build, roles=roles, current=current, live=live,
                                             fragment=fragment))


async def _render_page(request: Request, title: str, build, *, roles: tuple[str, ...], current: str = "",
                       live: str = "", fragment: bool = False):
    try:
        user = await _user(request)
    except SignInNeeded:
        if fragment:
            return Response(status_code=401)
        return RedirectResponse(f"/dashboard/sign-in?next={request.url.path}", status_code=303)
    api = Api(request.app, user["token"])
    try:
        _allow(user, *roles)
        body = await build(api, user)
    except Forbidden:
        return _html(page("Not available", '<p class="error">This page is not available to your role.</p>',
                          user=user, csrf=_csrf_of(request)), 403)
    except ApiError as exc:
        if exc.status == 401:
            return RedirectResponse("/dashboard/sign-in", status_code=303)
        status = exc.status if exc.status in (403, 404) else 502
        return _html(page("Not available" if status != 502 else "Something went wrong",
                          f'<p class="error">{e(exc.detail)} (HTTP {exc.status})</p>', user=user,
                          csrf=_csrf_of(request)), status)
    finally:
        await api.close()
    if fragment:
        return _html(body)
    return _html(page(title, body, user=user, current=current, csrf=_csrf_of(request), live=live))


async def _act(request: Request, action, *, roles: tuple[str, ...]):
    """A form post: checks, then action(api, user, form) -> the URL to go to next (303)."""
    return _keep(request, await _act_now(request, action, roles=roles))


async def _act_now(request: Request, action, *, roles: tuple[str, ...]):
    try:
        user = await _user(request)
    except SignInNeeded:
        return RedirectResponse("/dashboard/sign-in", status_code=303)
    api = Api(request.app, user["token"])
    try:
        _allow(user, *roles)
        form = await _check_form(request)
        return RedirectResponse(await action(api, user, form), status_code=303)
    except Forbidden:
        return _html(page("Not allowed", '<p class="error">That action is not allowed (role or form check).</p>',
                          user=user, csrf=_csrf_of(request)), 403)
    finally:
        await api.close()


# --- static, sign-in, sign-out --------------------------------------------------------------------------
@router.get("/static/app.css")
async def css() -> Response:
    return Response(CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=300"})


@router.get("/static/app.js")
async def js() -> Response:
    return Response(JS, media_type="text/javascript", headers={"Cache-Control": "public, max-age=300"})


def _sign_in_page(request: Request, csrf: str, error: str = "", status: int = 200) -> HTMLResponse:
    nxt = request.query_params.get("next", "")
    body = (f'{f"<p class=error role=alert>{e(error)}</p>" if error else ""}'
            '<form method="post" action="/dashboard/sign-in" class="signin stack">'
            f'<input type="hidden" name="csrf" value="{e(csrf)}"><input type="hidden" name="next" value="{e(nxt)}">'
            '<p>Sign in with your client credentials (the hub team, a home manager or finance).</p>'
            '<div><label for="client_id">Client id</label>'
            '<input id="client_id" name="client_id" autocomplete="username" required></div>'
            '<div><label for="client_secret">Client secret</label>'
            '<input id="client_secret" name="client_secret" type="password" autocomplete="current-password" required>'
            '</div><button type="submit">Sign in</button></form>')
    resp = _html(page("Sign in", body, user=None), status)
    resp.set_cookie(CSRF, csrf, httponly=True, samesite="strict", secure=_secure(request), path="/dashboard")
    return resp


@router.get("/sign-in")
async def sign_in_form(request: Request):
    return _sign_in_page(request, _csrf_of(request) or secrets.token_urlsafe(32))


@router.post("/sign-in")
async def sign_in(request: Request):
    try:
        form = await _check_form(request)
    except Forbidden:
        return _sign_in_page(request, secrets.token_urlsafe(32), "The form expired; please sign in again.", 403)
    api = Api(request.app, None)
    try:
        r = await api.raw("POST", "/oauth/token", data={
            "grant_type": "client_credentials", "client_id": str(form.get("client_id", ""))[:200],
            "client_secret": str(form.get("client_secret", ""))[:500]})
    finally:
        await api.close()
    if r.status_code != 200:
        return _sign_in_page(request, _csrf_of(request), "Those credentials were not accepted.", 401)
    token = r.json()["access_token"]
    try:
        principal = await request.app.state.runtime.verifier.verify(token)
    except InvalidToken:
        return _sign_in_page(request, _csrf_of(request), "Those credentials were not accepted.", 401)
    if principal.is_council:
        return _sign_in_page(request, _csrf_of(request),
                             "The dashboard is for the hub team; councils use the API.", 403)
    nxt = str(form.get("next", ""))
    home = {"finance": "/dashboard/finance"}.get(principal.role, "/dashboard/board")
    target = nxt if nxt.startswith("/dashboard/") and not nxt.startswith("/dashboard/sign") and "//" not in nxt \
        else home
    resp = RedirectResponse(target, status_code=303)
    settings = request.app.state.runtime.settings
    resp.set_cookie(SESSION, token, max_age=session_seconds(settings), httponly=True, samesite="strict",
                    secure=_secure(request), path="/dashboard")
    # the session outlives the access token (ttl seconds): the dashboard re-mints it within this limit
    resp.set_cookie(SESSION_COOKIE, mint_session(settings, principal, request.app.state.signing_keys), max_age=session_seconds(settings),
                    httponly=True, samesite="strict", secure=_secure(request), path="/dashboard")
    # a fresh CSRF token for the session (not the one used before signing in)
    resp.set_cookie(CSRF, secrets.token_urlsafe(32), httponly=True, samesite="strict", secure=_secure(request),
                    path="/dashboard")
    return resp


@router.post("/sign-out")
async def sign_out(request: Request):
    try:
        await _check_form(request)
    except Forbidden:
        pass  # signing out is harmless; the cookies go either way
    resp = RedirectResponse("/dashboard/sign-in", status_code=303)
    resp.delete_cookie(SESSION, path="/dashboard")
    resp.delete_cookie(SESSION_COOKIE, path="/dashboard")
    resp.delete_cookie(CSRF, path="/dashboard")
    return resp


@router.get("")
@router.get("/")
async def index(request: Request):
    try:
        user = await _user(request)
    except SignInNeeded:
        return RedirectResponse("/dashboard/sign-in", status_code=303)
    return _keep(request, RedirectResponse("/dashboard/finance" if user["role"] == "finance" else "/dashboard/board",
                                           status_code=303))


# --- shared reads -----------------------------------------------------------------------------------------
async def _child_refs(api: Api, user: dict) -> dict[str, str]:
    """referral id -> the council's child reference (the hub reads referrals; others see none)."""
    if user["role"] != "hub":
        return {}
    rows = await api.get_all("/v1/referrals", {"limit": 200})
    return {r["id"]: r["child_ref"] for r in rows}


def _child(ref_by_referral: dict, placement: dict) -> str:
    ref = ref_by_referral.get(str(placement.get("referral_id")))
    return e(ref) if ref else f'placement {e(str(placement["id"])[:8])}'


def _unmatchable_reason(home: dict) -> str | None:
    if home["status"] != "live":
        done = sum(1 for i in home.get("checklist", []) if i["done"])
        return f"Onboarding: checklist {done}/{len(home.get('checklist', []))}, not live"
    if home["registration_status"] == "suspended":
        return "Registration suspended"
    if home.get("ofsted_rating") == "inadequate":
        return "Rated Inadequate"
    return None if home.get("matchable", True) else "Not matchable"


# --- homes and beds board ---------------------------------------------------------------------------
async def _board(api: Api, user: dict) -> str:
    homes, placements, refs = await api.gather(
        api.get("/v1/homes"), api.get_all("/v1/placements", {"status": ["pending", "phase_1", "phase_2"],
                                                               "limit": 200}),
        _child_refs(api, user))
    homes = items(homes)
    by_bed = {str(p["bed_id"]): p for p in placements}
    cards, total_free, total_beds, occupied = [], 0, 0, 0
    for h in sorted(homes, key=lambda h: (h["status"] != "live", h["name"])):
        reason = _unmatchable_reason(h)
        beds = h.get("beds", [])
        # matching's answer (not re-derived): a home is offered for a new admission when nothing stops it, which
        # takes in a vacant Pathway Bed and the home's Phase 1 limit
        why_not = {n["reason"]: n for n in h.get("not_offered_because", [])}
        free_pathway = reason is None and h.get("matchable", True) and not why_not
        total_beds += len(beds)
        rows = []
        for b in sorted(beds, key=lambda b: b["label"]):
            p = by_bed.get(str(b["id"]))
            state = {"vacant": badge("Vacant", "green"), "reserved": badge("Reserved", "blue"),
                     "occupied": badge("Occupied", "neutral"), "out_of_service": badge("Out of service", "red")
                     }.get(b["state"], e(b["state"]))
            if p:
                occupied += 1
                phase = label(p.get("phase") or p.get("status"))
                day = f", day {p['day']}" if p.get("day") else ""
                who = (f'<a href="/dashboard/placements/{e(p["id"])}">{_child(refs, p)}</a>'
                       f'<br><span class="meta">{e(phase)}{e(day)}</span>')
            else:
                who = '<span class="meta">-</span>'
            rows.append([e(b["label"]) + (" " + badge("Pathway Bed", "blue") if b["is_pathway"] else ""), state, who])
        if free_pathway:
            total_free += 1
        status = badge("Free Pathway Bed", "green") if free_pathway else ""
        status += badge(reason, "red") if reason else ""
        if reason is None and "phase_1_limit" in why_not:
            status += badge(f"Pathway Bed held: Phase 1 limit ({h.get('in_phase_1', 0)} of {h['phase_1_limit']})",
                            "amber")
        rating = label(h.get("ofsted_rating")) or "Not yet rated"
        cls = "unmatchable" if reason else ("free" if free_pathway else "")
        cards.append(
            f'<section class="card {cls}" aria-labelledby="home-{e(h["id"])}">'
            f'<h2 id="home-{e(h["id"])}">{e(h["name"])}</h2>'
            f'<p class="meta">{e(h["urn"])} · {e(h["postcode_district"])} · Ofsted: {e(rating)} · '
            f'{len(beds)} beds · ages {e(h["age_min"])}-{e(h["age_max"])} · {e(", ".join(h["sexes"]))}</p>'
            f'<p>{status}{"".join(badge(label(s)) for s in h.get("specialisms", []))}</p>'
            + table(f"Beds at {h['name']}", ["Bed", "State", "Child"], rows, cls="beds")
            + "</section>")
    summary = (f'<p class="meta" role="status">{len(homes)} homes, {occupied} of {total_beds} beds occupied, '
               f'{total_free} free Pathway Beds.</p>')
    return summary + '<div class="grid-cards">' + "".join(cards) + "</div>"


def _live(inner: str) -> str:
    return f'<div id="live" aria-live="polite">{inner}</div>'


@router.get("/board")
async def board(request: Request):
    async def build(api, user):
        return _live(await _board(api, user))
    return await _render(request, "Homes and beds", build, roles=HOME_ROLES, current="/dashboard/board",
                         live="/dashboard/board/live")


@router.get("/board/live")
async def board_live(request: Request):
    return await _render(request, "", _board, roles=HOME_ROLES, fragment=True)


# --- referral queue ---------------------------------------------------------------------------------
async def _queue(api: Api, user: dict) -> str:
    rows = await api.get_all("/v1/referrals", {"awaiting": "decision", "limit": 200})
    out = []
    for r in rows:
        late = r["urgency"] == "crisis" and (r.get("waiting_seconds") or 0) > CRISIS_TARGET_SECONDS
        clock = (f'<span class="clock{" late" if late else ""}" data-waiting="{int(r.get("waiting_seconds") or 0)}">'
                 f'{e(waited(r.get("waiting_seconds")))}</span>')
        kind = " " + badge("Outreach", "blue") if r.get("kind") == "outreach" else ""  # issue 16
        out.append([f'<a href="/dashboard/referrals/{e(r["id"])}">{e(r["child_ref"])}</a>{kind}',
                    badge(label(r["urgency"]), URGENCY_KIND.get(r["urgency"], "neutral")), e(r["la_code"]),
                    e(r.get("wanted_start_date") or "-"), clock, e(label(r["status"]))])
    return table("Referrals awaiting a decision, most urgent first, then the longest waiting",
                 ["Child (council reference)", "Urgency", "Council", "Wanted start", "Waiting", "Status"], out,
                 empty="No referral is waiting for a decision.")


@router.get("/referrals")
async def referrals(request: Request):
    async def build(api, user):
        return _live(await _queue(api, user))
    return await _render(request, "Referral queue", build, roles=("hub",), current="/dashboard/referrals",
                         live="/dashboard/referrals/live")


@router.get("/referrals/live")
async def referrals_live(request: Request):
    return await _render(request, "", _queue, roles=("hub",), fragment=True)


@router.get("/referrals/{referral_id}")
async def referral(referral_id: str, request: Request):
    async def build(api: Api, user):
        r, homes = await api.gather(api.get(f"/v1/referrals/{referral_id}"), api.get("/v1/homes"))
        names = {h["id"]: h for h in items(homes)}
        needs = ", ".join(f"{label(n['code'])} ({n['severity']})" for n in r["needs"]) or "-"
        risks_ = ", ".join(f"{label(n['code'])} ({n['severity']})" for n in r["risks"]) or "-"
        facts = (f'<dl class="facts"><dt>Council</dt><dd>{e(r["la_code"])}</dd>'
                 f'<dt>Urgency</dt><dd>{badge(label(r["urgency"]), URGENCY_KIND.get(r["urgency"], "neutral"))}</dd>'
                 f'<dt>Status</dt><dd>{e(label(r["status"]))}</dd><dt>Sex</dt><dd>{e(r["sex"])}</dd>'
                 f'<dt>Date of birth</dt><dd>{e(r["date_of_birth"])}</dd>'
                 f'<dt>Legal status</dt><dd>{e(r.get("legal_status") or "-")}</dd>'
                 f'<dt>Home area</dt><dd>{e(r.get("home_outward_code") or "-")}</dd>'
                 f'<dt>Wanted start</dt><dd>{e(r.get("wanted_start_date") or "-")}</dd>'
                 f'<dt>Needs</dt><dd>{e(needs)}</dd><dt>Risks</dt><dd>{e(risks_)}</dd></dl>')
        done = request.query_params.get("decided")
        notice = ""
        if done:
            notice = f'<p class="notice" role="status">Decision recorded: {e(label(done))}.</p>'
        error = request.query_params.get("error")
        if error:
            notice += f'<p class="error" role="alert">{e(error)}</p>'
        # the hub's decision is matching's; the referral's own status follows by event a moment later
        decided = r["status"] not in ("received", "in_assessment") or bool(
            items(await api.get("/v1/admissions", {"referral_id": referral_id}, allow=(422,)) or []))
        req = r.get("placement_request") or {}
        if req or r.get("no_known_risks"):  # what the placement must allow, and the risks asked with none known
            dol = req.get("deprivation_of_liberty")
            shown = [("No known risk", ", ".join(label(c) for c in r.get("no_known_risks") or [])),
                     ("Living companions", label(req.get("living_companions"))), ("Pets", label(req.get("pets"))),
                     ("Deprivation of Liberty order", None if dol is None else ("yes" if dol else "no")),
                     ("Siblings to place with", req.get("sibling_count")),
                     ("Communication", ", ".join(label(c) for c in req.get("communication_requirements") or [])),
                     ("Residential care", label((req.get("suitability") or {}).get("residential_care")))]
            facts = facts.replace("</dl>", "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in shown
                                                   if v not in (None, "")) + "</dl>")
        if r.get("kind") == "outreach":  # where the child lives now and what is at risk (issue 16)
            facts = facts.replace("</dl>", (
                f'<dt>Kind</dt><dd>{badge("Outreach", "blue")}</dd>'
                f'<dt>Lives now</dt><dd>{e(setting(r.get("current_setting")) or "-")}</dd>'
                f'<dt>At risk</dt><dd>{e(", ".join(label(c) for c in r.get("at_risk") or []) or "-")}</dd>'
                f'<dt>Basis</dt><dd>{e(label(r.get("outreach_basis")) or "-")}'
                f'{" · " + e(r["outreach_planned_weeks"]) + " weeks" if r.get("outreach_planned_weeks") else ""}</dd>'
                "</dl>"))
        if decided:
            if r.get("kind") == "outreach":
                return notice + facts + await _outreach_decision(api, referral_id)
            return notice + facts + await _decision(api, referral_id, names)
        m = await api.get(f"/v1/referrals/{referral_id}/matches", allow=(404, 409))
        if m is None:
            return notice + facts + '<p class="empty">Matching has not received this referral yet; refresh shortly.</p>'
        csrf = _csrf_of(request)
        start = r.get("wanted_start_date") or str(date.today())
        start = max(start, str(date.today()))
        if m.get("kind") == "outreach":
            return notice + facts + _outreach_options(m, r, referral_id, csrf, start)
        excluded = ", ".join(f"{label(k)}: {v}" for k, v in m.get("excluded", {}).items() if v) or "none"
        opts = []
        for o in m["options"]:
            h = names.get(str(o["home_id"]), {})
            terms = "".join(f'<li>{e(label(t["term"]))}: {t["weighted"]:+.1f} - {e(t["reason"])}</li>' for t in o["terms"])
            risks = []
            for rr in o["resident_risks"]:
                for f in rr["risks"]:
                    risks.append([e(f"{rr['age']}, {rr['sex']}, {label(rr['phase'])}"), e(f["score"]),
                                  e(f["reason"]), e(f["mitigation"]),
                                  badge("Unacceptable", "red") if f["unacceptable"] else ""])
            mitig = "".join(f"<li>{e(label(x))}</li>" for x in o["mitigations"]) or "<li>None needed</li>"
            title = h.get("name", str(o["home_id"]))
            opts.append(
                f'<section class="option" data-home="{e(title)}" aria-labelledby="opt-{o["rank"]}"><h3 id="opt-{o["rank"]}">{o["rank"]}. '
                f'{e(title)} {badge(label(o["rating"]) + " risk", RATING_KIND.get(o["rating"], "neutral"))}</h3>'
                f'<p class="meta">Score {o["score"]:.1f} (lower ranks first) · impact {e(o["impact"])} · '
                f'distance {e(o["distance_km"] if o["distance_km"] is not None else "unknown")} km · '
                f'{e(h.get("postcode_district", ""))}</p>'
                f'<div class="cols"><div><h4>Why this rank</h4><ul>{terms}</ul></div>'
                f'<div><h4>Mitigations needed</h4><ul>{mitig}</ul></div></div>'
                + table(f"Risks to the children living at {title}", ["Resident", "Score", "Reason", "Mitigation", ""],
                        risks, empty="No interaction with the current residents.")
                + (f'<form method="post" action="/dashboard/referrals/{e(referral_id)}/decision" class="stack">'
                   f'<input type="hidden" name="csrf" value="{e(csrf)}"><input type="hidden" name="decision" value="accept">'
                   f'<input type="hidden" name="home_id" value="{e(o["home_id"])}">'
                   f'<input type="hidden" name="iraid" value="{e(m["impact_risk_assessment_id"])}">'
                   f'<div><label for="start-{o["rank"]}">Planned start date</label>'
                   f'<input type="date" id="start-{o["rank"]}" name="planned_start_date" value="{e(start)}" required></div>'
                   f'<button type="submit">Accept into {e(title)}</button></form>'
                   if o["rating"] != "unacceptable" else '<p class="error">Unacceptable: cannot be accepted here.</p>')
                + "</section>")
        decline = (f'<form method="post" action="/dashboard/referrals/{e(referral_id)}/decision" class="stack option">'
                   f'<h2>Decline</h2><input type="hidden" name="csrf" value="{e(csrf)}">'
                   '<input type="hidden" name="decision" value="decline">'
                   '<div><label for="reason_code">Reason</label><select id="reason_code" name="reason_code" required>'
                   + "".join(f'<option value="{k}">{e(v)}</option>' for k, v in DECLINE_REASONS.items())
                   + '</select></div><div><label for="reason_text">Details (required for Other; no names)</label>'
                   '<textarea id="reason_text" name="reason_text" rows="2" cols="50" maxlength="1000"></textarea></div>'
                   '<button type="submit" class="danger">Decline referral</button></form>')
        head = (f'<h2>Impact risk assessment</h2><p class="meta">{m["homes_ranked"]} of {m["homes_considered"]} homes '
                f'ranked · excluded by hard limits: {e(excluded)} · rules {e(m["rules_version"])}</p>')
        options = "".join(opts) or '<p class="empty">No home can take this child now.</p>'
        return notice + facts + head + options + decline

    return await _render(request, "Referral", build, roles=("hub",), current="/dashboard/referrals")


def _outreach_options(m: dict, r: dict, referral_id: str, csrf: str, start: str) -> str:
    """An outreach referral's ranking of outreach teams (issue 16), each with the hub's accept, and a decline."""
    excluded = ", ".join(f"{label(k)}: {v}" for k, v in m.get("excluded", {}).items() if v) or "none"
    weekly = r.get("outreach_basis") == "weekly"
    opts = []
    for o in m["options"]:
        terms = "".join(f'<li>{e(label(t["term"]))}: {t["weighted"]:+.1f} - {e(t["reason"])}</li>' for t in o["terms"])
        n, free = o["rank"], f'{o["capacity_left"]} of {o["caseload_limit"]} places free'
        opts.append(
            f'<section class="option" data-team="{e(o["team_name"])}" aria-labelledby="opt-{n}"><h3 id="opt-{n}">'
            f'{n}. {e(o["team_name"])} {badge(free, "green")}'
            f'</h3><p class="meta">Score {o["score"]:.1f} (lower ranks first) · '
            f'{e(o["distance_miles"] if o["distance_miles"] is not None else "unknown")} miles (reach '
            f'{e(o["reach_miles"])}) · {e(label(o["region"]))}</p><h4>Why this rank</h4><ul>{terms}</ul>'
            f'<form method="post" action="/dashboard/referrals/{e(referral_id)}/decision" class="stack">'
            f'<input type="hidden" name="csrf" value="{e(csrf)}"><input type="hidden" name="decision" value="accept">'
            f'<input type="hidden" name="team_id" value="{e(o["team_id"])}">'
            f'<input type="hidden" name="iraid" value="{e(m["impact_risk_assessment_id"])}">'
            f'<div><label for="start-{n}">Planned start date</label>'
            f'<input type="date" id="start-{n}" name="planned_start_date" value="{e(start)}" required></div>'
            f'<div><label for="basis-{n}">Basis</label><select id="basis-{n}" name="outreach_basis">'
            f'<option value="fixed_fee"{"" if weekly else " selected"}>Fixed fee (six weeks)</option>'
            f'<option value="weekly"{" selected" if weekly else ""}>Weekly</option></select></div>'
            f'<div><label for="weeks-{n}">Planned weeks (weekly: required unless the referral says; fixed fee: blank for six)</label>'
            f'<input type="number" id="weeks-{n}" name="planned_weeks" min="1" max="52" '
            f'value="{e(r.get("outreach_planned_weeks") or "")}"></div>'
            f'<button type="submit">Accept for {e(o["team_name"])}</button></form></section>')
    why = "".join(f'<li>{e(x["team_name"])}: {e(x["detail"])}</li>' for x in m.get("exclusions", []))
    decline = (f'<form method="post" action="/dashboard/referrals/{e(referral_id)}/decision" class="stack option">'
               f'<h2>Decline</h2><input type="hidden" name="csrf" value="{e(csrf)}">'
               '<input type="hidden" name="decision" value="decline">'
               '<div><label for="reason_code">Reason</label><select id="reason_code" name="reason_code" required>'
               + "".join(f'<option value="{k}">{e(v)}</option>' for k, v in OUTREACH_DECLINE_REASONS.items())
               + '</select></div><div><label for="reason_text">Details (required for Other; no names)</label>'
               '<textarea id="reason_text" name="reason_text" rows="2" cols="50" maxlength="1000"></textarea></div>'
               '<button type="submit" class="danger">Decline referral</button></form>')
    head = (f'<h2>Outreach teams</h2><p class="meta">{m["teams_ranked"]} of {m["teams_considered"]} teams ranked · '
            f'excluded by hard limits: {e(excluded)} · rules {e(m["rules_version"])}</p>'
            + (f'<h3>Not offered</h3><ul>{why}</ul>' if why else ""))
    return head + ("".join(opts) or '<p class="empty">No outreach team can take this child now.</p>') + decline


async def _outreach_decision(api: Api, referral_id: str) -> str:
    admissions = items(await api.get("/v1/admissions", {"referral_id": referral_id}, allow=(422,)) or [])
    mine = [a for a in admissions if str(a["referral_id"]) == referral_id]
    if not mine:
        return '<p class="empty">This referral is closed.</p>'
    a = mine[0]
    if a["decision"] == "declined":
        return f'<h2>Declined</h2><p>Reason: {e(label(a["reason_code"]))}</p>'
    team = await api.get(f"/v1/outreach-teams/{a['team_id']}", allow=(404,)) or {}
    return (f'<h2>Accepted for outreach</h2><p>{e(team.get("name", a["team_id"]))}: '
            f'{e(label(a["outreach_basis"]))}, {e(a["planned_weeks"])} weeks from {e(a["planned_start_date"])}.</p>')


async def _decision(api: Api, referral_id: str, homes: dict) -> str:
    admissions = items(await api.get("/v1/admissions", {"referral_id": referral_id}, allow=(422,)) or [])
    mine = [a for a in admissions if str(a["referral_id"]) == referral_id]
    if not mine:
        return '<p class="empty">This referral is closed.</p>'
    a = mine[0]
    if a["decision"] == "declined":
        return f'<h2>Declined</h2><p>Reason: {e(label(a["reason_code"]))}</p>'
    home = homes.get(str(a["home_id"]), {})
    bed = next((b for b in home.get("beds", []) if str(b["id"]) == str(a["bed_id"])), {})
    placements = await api.get_all("/v1/placements", {"home": a["home_id"], "limit": 200})
    placement = next((p for p in placements if str(p["referral_id"]) == referral_id), None)
    link = (f'<p><a href="/dashboard/placements/{e(placement["id"])}">Open the placement</a> '
            f'({e(label(placement["phase"]))}, planned start {e(placement["planned_start_date"])})</p>'
            if placement else '<p class="meta">The placement is being set up; refresh shortly.</p>')
    return (f'<h2>Accepted</h2><p>Into {e(home.get("name", a["home_id"]))}, bed {e(bed.get("label", "-"))} '
            f'({badge(label(bed.get("state", a["status"])), "blue")}), planned start {e(a["planned_start_date"])}'
            f'{", reserved until " + e(str(a["reserved_until"])[:16]) if a.get("reserved_until") else ""}.</p>' + link)


@router.post("/referrals/{referral_id}/decision")
async def decide(referral_id: str, request: Request):
    async def action(api: Api, user, form):
        body = {"referral_id": referral_id, "decision": form.get("decision")}
        if body["decision"] == "accept" and form.get("team_id"):  # an outreach referral, for a team
            body.update(team_id=form.get("team_id"), planned_start_date=form.get("planned_start_date"),
                        impact_risk_assessment_id=form.get("iraid") or None,
                        outreach_basis=form.get("outreach_basis") or None)
            weeks = (form.get("planned_weeks") or "").strip()
            if weeks:  # what was typed goes to the API, which refuses what is not 1-52 (never silently dropped)
                body["planned_weeks"] = int(weeks) if weeks.isascii() and weeks.isdigit() else weeks
        elif body["decision"] == "accept":
            body.update(home_id=form.get("home_id"), planned_start_date=form.get("planned_start_date"),
                        impact_risk_assessment_id=form.get("iraid") or None)
        else:
            body.update(reason_code=form.get("reason_code"), reason_text=(form.get("reason_text") or None))
        try:
            await api.write("POST", "/v1/admissions", body)
        except ApiError as exc:
            from urllib.parse import quote
            return f"/dashboard/referrals/{referral_id}?error={quote(exc.detail[:300])}"
        return f"/dashboard/referrals/{referral_id}?decided={'accepted' if body['decision'] == 'accept' else 'declined'}"
    return await _act(request, action, roles=("hub",))


# --- deadlines --------------------------------------------------------------------------------------
@router.get("/deadlines")
async def deadlines(request: Request):
    async def build(api: Api, user):
        found, homes, refs, placements = await api.gather(
            api.get_all("/v1/deadlines", {"limit": 200}), api.get("/v1/homes"), _child_refs(api, user),
            api.get_all("/v1/placements", {"status": ["phase_1", "phase_2", "pending"], "limit": 200}))
        names = {h["id"]: h["name"] for h in items(homes)}
        by_id = {p["id"]: p for p in placements}
        per_home: dict[str, list] = {}
        for d in found:
            if d["state"] == "upcoming" and date.fromisoformat(d["due_date"]) > date.today() + timedelta(days=21):
                continue
            per_home.setdefault(str(d["home_id"]), []).append(d)
        parts = [f'<p class="meta">Overdue and due in the next three weeks, per home. '
                 f'{sum(len(v) for v in per_home.values())} items.</p>']
        for home_id in sorted(per_home, key=lambda h: names.get(h, h)):
            rows = []
            for d in per_home[home_id]:
                p = by_id.get(str(d["placement_id"]), {"id": d["placement_id"], "referral_id": None})
                rows.append([badge(label(d["state"]), DEADLINE_KIND[d["state"]]), e(d["due_date"]), e(label(d["kind"])),
                             e(label(d["item"])),
                             f'<a href="/dashboard/placements/{e(d["placement_id"])}">{_child(refs, p)}</a>'])
            parts.append(f'<h2>{e(names.get(home_id, home_id))}</h2>'
                         + table(f"Deadlines at {names.get(home_id, home_id)}", ["State", "Due", "Kind", "What", "Child"],
                                 rows))
        if not per_home:
            parts.append('<p class="empty">Nothing due in the next three weeks.</p>')
        return "".join(parts)
    return await _render(request, "Deadlines", build, roles=("hub", "home_manager"), current="/dashboard/deadlines")


# --- placement ------------------------------------------------------------------------------------------
@router.get("/placements/{placement_id}")
async def placement(placement_id: str, request: Request):
    async def build(api: Api, user):
        p = await api.get(f"/v1/placements/{placement_id}")
        plan, reviews, tasks, refs, home = await api.gather(
            api.get(f"/v1/placements/{placement_id}/plan", allow=(404,)),
            api.get(f"/v1/placements/{placement_id}/reviews", allow=(404,)),
            api.get(f"/v1/placements/{placement_id}/tasks", allow=(404,)),
            _child_refs(api, user), api.get(f"/v1/homes/{p['home_id']}", allow=(403, 404)))
        ref = refs.get(str(p["referral_id"]))
        facts = (f'<dl class="facts"><dt>Child (council reference)</dt><dd>{e(ref or "-")}</dd>'
                 f'<dt>Council</dt><dd>{e(p["la_code"])}</dd>'
                 f'<dt>Home</dt><dd>{e((home or {}).get("name", p["home_id"]))}</dd>'
                 f'<dt>Phase today</dt><dd>{e(label(p["phase"]))}{", day " + e(p["day"]) if p.get("day") else ""}</dd>'
                 f'<dt>Planned start</dt><dd>{e(p["planned_start_date"])}</dd>'
                 f'<dt>Arrived</dt><dd>{e(p.get("arrival_date") or "not yet")}</dd>'
                 f'<dt>Statutory reviews</dt><dd>{e(", ".join(str(x) for x in p.get("statutory_reviews", [])) or "-")}</dd>'
                 '</dl>')
        parts = [facts, "<h2>Phase timeline</h2>",
                 timeline_chart(p.get("phase_history", []), date.today(),
                                date.fromisoformat(str(p["end_date"])) if p.get("end_date") else None)]
        task_rows = [[e(t["label"]), e(t["due_date"]), badge(label(t["state"]),
                      {"overdue": "red", "due_soon": "amber", "done": "green"}.get(t["state"], "neutral")),
                      e(t.get("done_on") or "-")] for t in items(tasks or [])]
        if task_rows:
            parts.append("<h2>Phase 1 foundation tasks</h2>" + table("Foundation tasks", ["Task", "Due", "State", "Done"],
                                                                      task_rows))
        parts.append("<h2>Pathway plan</h2>")
        if plan:
            parts.append(f'<p>Initial Pathway Plan due {e(plan["due_date"])}: {e(label(plan["status"]))}'
                         f'{" (late)" if plan.get("late") else ""}; issued version {e(plan["issued_version"])}.</p>')
            versions = items(await api.get(f"/v1/plans/{plan['id']}/versions", allow=(404,)) or [])
            versions = sorted(versions, key=lambda v: v["version"])
            rows = [[e(v["version"]), e(v["issued_on"]), e(label(v["source"]))] for v in versions]
            parts.append(table("Plan versions", ["Version", "Issued", "Source"], rows, empty="No version issued yet."))
            for older, newer in zip(versions, versions[1:]):
                parts.append(f'<details><summary>What changed from version {older["version"]} to {newer["version"]}'
                             f'</summary>{section_diff(older["sections"], newer["sections"])}</details>')
        else:
            parts.append('<p class="empty">No plan yet.</p>')
        review_rows = [[e(r["number"]), e(label(r["kind"])), e(r["due_date"]), e(label(r["state"])),
                        e(r.get("completed_on") or "-"), e(r.get("plan_version") or "-")] for r in items(reviews or [])]
        parts.append("<h2>Reviews</h2>" + table("Plan reviews", ["#", "Kind", "Due", "State", "Completed", "Plan version"],
                                                review_rows, empty="No review yet."))
        sd = p.get("step_down")
        parts.append("<h2>Step-down</h2>" + (f'<p>To {e(label(sd.get("destination")))} by {e(sd.get("target_date"))}.</p>'
                                            if sd else '<p class="empty">No step-down planned yet.</p>'))
        end = p.get("ending")
        if end:
            kind = "planned" if end.get("ending_type") == "step_down" else "unplanned"
            parts.append(f'<h2>Ending</h2><p>{badge(kind, "green" if kind == "planned" else "red")} '
                         f'{e(label(end.get("ending_type")))} on {e(end.get("end_date"))} '
                         f'(reason {e(end.get("reason_code"))}).</p>')
        parts.append(await _placement_outcomes(api, user, placement_id))
        return "".join(parts)
    return await _render(request, "Placement", build, roles=("hub", "home_manager"), current="/dashboard/board")


# --- outcomes -------------------------------------------------------------------------------------------
POINT_KIND = {"overdue": "red", "due_soon": "amber", "met": "green", "upcoming": "neutral"}
BAND_KIND = {"close_to_average": "green", "slightly_raised": "amber", "high": "red", "very_high": "red"}


async def _placement_outcomes(api: Api, user: dict, placement_id: str) -> str:
    """The child's SDQ total difficulties over time against its bands, and the measurement points."""
    head = "<h2>Outcomes</h2>"
    if not user.get("outcomes"):
        return head + '<p class="empty">Outcome measures need the outcomes:read permission.</p>'
    o = await api.get(f"/v1/outcomes/placements/{placement_id}", allow=(404,))
    if o is None:
        return head + '<p class="empty">The outcomes service has no record of this placement yet (it starts at arrival).</p>'
    measures = sorted(o.get("measures", []), key=lambda m: (str(m["recorded_on"]), m["timepoint"]))
    sdqs = [m for m in measures if m.get("sdq")]
    sdq_rows = [[e(label(m["timepoint"])), e(m["recorded_on"]), e(INFORMANT_NAMES.get(m["sdq"].get("informant"),
                m["sdq"].get("informant"))), e(m["sdq"].get("total_difficulties")),
                 badge(label(m["sdq"].get("band")), BAND_KIND.get(m["sdq"].get("band"), "neutral"))] for m in sdqs]
    progress = (o.get("progress") or {}).get("sdq_total") or {}
    change = ""
    if progress.get("baseline") is not None and progress.get("latest") is not None:
        diff = progress["latest"] - progress["baseline"]
        change = (f'<p>Total difficulties {e(progress["baseline"])} at the baseline, {e(progress["latest"])} at '
                  f'{e(label(progress.get("latest_timepoint")))}: {"down" if diff < 0 else "up" if diff > 0 else "no change"}'
                  f'{f" by {abs(diff)}" if diff else ""} ({"better" if diff < 0 else "worse" if diff > 0 else "same"}).</p>')
    point_rows = []
    due = []
    for pt in o.get("points", []):
        state = pt["state"]
        point_rows.append([e(label(pt["timepoint"])), e(pt["due_date"]),
                           badge(label(state), POINT_KIND.get(state, "neutral")),
                           e(", ".join(GROUP_NAMES.get(g, label(g)) for g in pt["recorded"]) or "-"),
                           e(", ".join(GROUP_NAMES.get(g, label(g)) for g in pt["missing"]) or "-")])
        if state in ("overdue", "due_soon") and pt["missing"]:
            due.append(f'{label(pt["timepoint"])} ({label(state).lower()}, due {pt["due_date"]}): '
                       f'{", ".join(GROUP_NAMES.get(g, label(g)) for g in pt["missing"])} missing')
    summary = (f'<p class="warning" role="status">Due or missing: {e("; ".join(due))}.</p>' if due else
               '<p class="meta">No measure is due or overdue now.</p>')
    corrections = [[e(label(c["timepoint"])), e(GROUP_NAMES.get(c["group"], label(c["group"]))),
                    e(label(c["reason_code"])), e(str(c["corrected_at"])[:16].replace("T", " ")),
                    e(c["corrected_by"]), e(c["version"])] for c in o.get("corrections", [])]
    return (head + "<h3>SDQ total difficulties</h3>"
            + sdq_chart(sdqs, "SDQ total difficulties over time against its bands") + change
            + (table("SDQ scores", ["Point", "Recorded", "Informant", "Total difficulties", "Band"], sdq_rows)
               if sdq_rows else "")
            + (table("Corrections of measures recorded wrongly (the corrected values are shown above)",
                     ["Point", "Measure", "Reason", "Corrected at (UTC)", "By", "Version"], corrections)
               if corrections else "")
            + "<h3>Measurement points</h3>" + summary
            + table("Measurement points: due dates and what is recorded or missing",
                    ["Point", "Due", "State", "Recorded", "Missing"], point_rows, empty="No measurement point yet."))


def _range(request: Request) -> tuple[date, date]:
    today = date.today()
    try:
        start = date.fromisoformat(request.query_params.get("from") or "")
    except ValueError:
        start = today - timedelta(days=365)
    try:
        end = date.fromisoformat(request.query_params.get("to") or "")
    except ValueError:
        end = today
    return (start, end) if start <= end else (end, start)


def _pct(share) -> str:
    return "-" if share is None else f"{float(share) * 100:.0f}%"


def _held(h: dict) -> str:
    return f'{h["held"]} held, {h["broke"]} broke, {h["pending"]} pending'


@router.get("/outcomes")
async def outcomes(request: Request):
    async def build(api: Api, user):
        if not user.get("outcomes"):
            raise Forbidden
        start, end = _range(request)
        by = request.query_params.get("by")
        by = by if by in ("home", "hub", "council") else "home"
        want_sufficiency = user["role"] == "hub"  # region-wide commissioning figures: the hub's
        cohort, homes, suff = await api.gather(
            api.get("/v1/outcomes/cohorts", {"from": str(start), "to": str(end), "by": by}),
            api.get("/v1/homes", allow=(403,)),
            api.get("/v1/reports/sufficiency", {"from": str(start), "to": str(end)}) if want_sufficiency
            else _none())
        names = {str(h["id"]): h["name"] for h in items(homes or [])}
        picker = ('<form method="get" action="/dashboard/outcomes" class="filters">'
                  f'<div><label for="from">From</label><input type="date" id="from" name="from" value="{start}"></div>'
                  f'<div><label for="to">To</label><input type="date" id="to" name="to" value="{end}"></div>'
                  '<div><label for="by">Group by</label><select id="by" name="by">'
                  + "".join(f'<option value="{v}"{" selected" if v == by else ""}>{t}</option>'
                            for v, t in (("home", "Home"), ("hub", "The hub"), ("council", "Council")))
                  + '</select></div><button type="submit" class="secondary">Show</button></form>')

        def name(g: str) -> str:
            return {"home": names.get(g, f"Home {g[:8]}"), "hub": "The hub (all homes)", "council": g}[by]
        groups = [(name(g["group"]), g) for g in cohort["groups"]] + [("All", cohort["all"])]
        rows = []
        for n, g in groups:
            sd, st = g["sdq"], g["stability"]
            steps = g["step_downs"]
            rows.append([e(n), e(g["children"]), e(g["placements"]), e(sd["with_baseline_and_follow_up"]),
                         e(sd["mean_change_total_difficulties"] or "-"), e(_pct(sd["share_improved"])),
                         e(st["placements_ended"]), e(st["still_running_at_end"]), e(st["mean_nights_in_range"] or "-"),
                         e(_pct(g["breakdown_rate"])), e(g["unplanned_endings"]), e(steps["count"]),
                         e(_held(steps["3_months"])), e(_held(steps["6_months"])), e(_held(steps["12_months"]))])
        chart_rows = [(n, float(g["sdq"]["mean_change_total_difficulties"]) if g["sdq"]["mean_change_total_difficulties"]
                       is not None else None, g["sdq"]["mean_change_total_difficulties"] or "no follow-up yet")
                      for n, g in groups]
        parts = [picker, f'<p class="meta">Placements overlapping {e(start)} to {e(end)}. SDQ change: the latest '
                         'total difficulties by the end of the range minus the baseline (negative is better).</p>',
                 "<h2>Cohort progress</h2>",
                 bar_chart(chart_rows, f"Mean change in SDQ total difficulties by {by}",
                           note="Bars to the left of zero are improvements"),
                 table(f"Cohort progress by {by}", ["Group", "Children", "Placements", "SDQ baseline and follow-up",
                                                    "Mean SDQ change", "Share improved", "Placements ended",
                                                    "Still running", "Mean nights in range", "Breakdown rate",
                                                    "Unplanned endings", "Step-downs", "Held at 3 months",
                                                    "Held at 6 months", "Held at 12 months"], rows, cls="figures")]
        if suff:
            parts.append(_sufficiency(suff, start, end))
        return "".join(parts)
    return await _render(request, "Outcomes", build, roles=("hub", "home_manager"), current="/dashboard/outcomes")


async def _none():
    return None


def _sufficiency(s: dict, start: date, end: date) -> str:
    ref, dec = s["referrals"], s["decisions"]
    need_rows = sorted(ref["by_need"].items(), key=lambda kv: (-kv[1], kv[0]))
    councils = sorted(set(ref["by_council"]) | set(s["placements_made"]["by_council"]))
    timing = [[e(t), e(s[k]["n"]), e(s[k]["median"] or "-"), e(s[k]["p90"] or "-")]
              for t, k in (("Referral to decision", "days_to_decision"), ("Referral to admission", "days_to_admission"))]
    dist, occ = s["distance_from_home"], s["occupancy"]
    csv_link = (f'<p><a class="button" href="/dashboard/outcomes/sufficiency.csv?from={start}&amp;to={end}" '
                f'download>Download the sufficiency report (CSV)</a></p>')
    return ("<h2>Sufficiency report</h2>" + csv_link
            + f'<p>{e(ref["total"])} referrals, {e(s["placements_made"]["total"])} placements made, '
              f'{e(dec["accepted"])} accepted and {e(dec["declined"])} declined.</p>'
            + bar_chart([(label(k), v, str(v)) for k, v in need_rows], "Referrals by need")
            + '<div class="cols"><div>'
            + table("Referrals and placements by council", ["Council", "Referrals", "Placements made"],
                    [[e(c), e(ref["by_council"].get(c, 0)), e(s["placements_made"]["by_council"].get(c, 0))]
                     for c in councils])
            + table("Referrals by need", ["Need", "Referrals"], [[e(label(k)), e(v)] for k, v in need_rows])
            + '</div><div>'
            + table("Declines by reason", ["Reason", "Declines"],
                    [[e(DECLINE_REASONS.get(k, label(k))), e(v)] for k, v in dec["declines_by_reason"].items()])
            + table("Days from referral", ["Step", "Referrals", "Median days", "90th percentile days"], timing)
            + table("Distance and occupancy", ["Figure", "Value"], [
                [e("Median distance from the child's home area"), e(f'{dist["median_km"]} km' if dist["median_km"] else "-")],
                [e("90th percentile distance"), e(f'{dist["p90_km"]} km' if dist["p90_km"] else "-")],
                [e("Placed outside their own council"), e(f'{dist["placed_outside_own_area"]} of {dist["area_known"]} '
                                                          f'({_pct(dist["share_outside_own_area"])})')],
                [e("Bed nights"), e(occ["bed_nights"])], [e("Mean children placed"), e(occ["mean_children_placed"])],
                [e("Registered places"), e(occ["registered_places"] if occ["registered_places"] is not None else "-")],
                [e("Occupancy"), e(_pct(occ["rate"]))]])
            + table("Contract use: placements by fee basis", ["Fee basis", "Placements"],
                    [[e(label(k)), e(v)] for k, v in s["contract_use"]["placements_by_fee_basis"].items()],
                    empty="No fee applied yet.")
            + _block_use(s["contract_use"].get("block"))
            + "</div></div>")


def _block_use(b: dict | None) -> str:
    if not b or not b["contracts"]:
        return '<p class="meta">No block contract invoiced in the range.</p>'
    return table("Block contracts as invoiced", ["Figure", "Value"], [
        [e("Block contracts"), e(b["contracts"])], [e("Invoiced for the blocks"), e(f'£{float(b["invoiced"]):,.2f}')],
        [e("Block days invoiced"), e(b["invoiced_days"])],
        [e("Placements on block contracts"), e(b["placements_on_block_contracts"])],
        [e("Placements charged above the block"), e(b["placements_charged_above_block"])],
        [e("Days charged above the block"), e(b["days_charged_above_block"])]])


async def hub_report_csv(request: Request, report: str):
    """A report's CSV for the page's date range (GET /v1/reports/{report}?format=csv), handed to the hub's browser
    as the API answered it: the outcomes report's and the outreach report's download links."""
    try:
        user = await _user(request)
    except SignInNeeded:
        return RedirectResponse("/dashboard/sign-in", status_code=303)
    if user["role"] != "hub":
        return Response(status_code=404)
    start, end = _range(request)
    api = Api(request.app, user["token"])
    try:
        r = await api.raw("GET", f"/v1/reports/{report}", params={"from": str(start), "to": str(end), "format": "csv"})
    finally:
        await api.close()
    if r.status_code != 200:
        return Response(status_code=r.status_code)
    return _keep(request, Response(r.content, media_type=r.headers.get("content-type"), headers={
        "Content-Disposition": r.headers.get("content-disposition", "attachment"), "Cache-Control": "no-store"}))


@router.get("/outcomes/sufficiency.csv")
async def sufficiency_csv(request: Request):
    return await hub_report_csv(request, "sufficiency")


# --- finance ----------------------------------------------------------------------------------------
def _next_period(closed: list[dict], contracts: list[dict]) -> date | None:
    """The calendar month finance closes next: after the last closed one, or the first contract's month."""
    months = sorted(date.fromisoformat(str(p["period_start"])) for p in closed if p["scheme"] == "calendar_month")
    if months:
        last = months[-1]
        nxt = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    elif contracts:
        nxt = min(date.fromisoformat(str(c["start_date"])) for c in contracts).replace(day=1)
    else:
        return None
    this_month = date.today().replace(day=1)
    return nxt if nxt < this_month else None


@router.get("/finance")
async def finance(request: Request):
    async def build(api: Api, user):
        periods, contracts, invoices = await api.gather(api.get("/v1/fee-periods"), api.get("/v1/contracts"),
                                                        api.get_all("/v1/invoices"))
        periods, contracts = items(periods), items(contracts)
        notice = ""
        if request.query_params.get("closed"):
            notice = f'<p class="notice" role="status">Fee period {e(request.query_params["closed"])} closed.</p>'
        if request.query_params.get("error"):
            notice += f'<p class="error" role="alert">{e(request.query_params["error"])}</p>'
        nxt = _next_period(periods, contracts)
        close = (f'<form method="post" action="/dashboard/finance/close" class="stack option">'
                 f'<input type="hidden" name="csrf" value="{e(_csrf_of(request))}">'
                 f'<div><label for="period_start">Next fee period to close (calendar month)</label>'
                 f'<input id="period_start" name="period_start" value="{e(nxt)}" readonly></div>'
                 f'<button type="submit">Close {e(f"{nxt:%B %Y}")}</button></form>' if nxt else
                 '<p class="meta">Every finished month is closed.</p>')
        recent = sorted(periods, key=lambda p: str(p["period_start"]), reverse=True)
        period_rows = [[e(f"{date.fromisoformat(str(p['period_start'])):%B %Y}"), e(p["period_start"]),
                        e(p["period_end"]), e(str(p["closed_at"])[:16].replace("T", " ")), e(p["closed_by"]),
                        e(len(p.get("unpriced") or []))] for p in recent[:12]]
        by_council: dict[str, list] = {}
        for inv in sorted(invoices, key=lambda i: (str(i["period_start"]), i["number"]), reverse=True):
            by_council.setdefault(inv["la_code"], []).append(inv)
        inv_parts = []
        for la, rows in sorted(by_council.items()):
            cells = [[e(i["number"]), e(label(i["kind"])), e(i["period_start"]), e(i["total"]["amount"]),
                      " ".join(f'<a href="/dashboard/invoices/{e(i["id"])}/download/{fmt}" '
                               f'aria-label="Download {e(i["number"])} as {fmt.upper()}">{fmt.upper()}</a>'
                               for fmt in ("pdf", "csv", "json"))] for i in rows[:12]]
            inv_parts.append(table(f"Invoices to {la}", ["Number", "Kind", "Period", "Total (£)", "Download"], cells))
        viability = await _viability(api, user, request.query_params.get("home"), invoices)
        return (notice + "<h2>Close a fee period</h2>" + close + "<h2>Closed fee periods</h2>"
                + table("The latest closed fee periods", ["Month", "From", "To", "Closed at (UTC)", "Closed by",
                                                          "Unpriced placements"], period_rows, empty="None closed yet.")
                + "<h2>Invoices per council</h2>" + ("".join(inv_parts) or '<p class="empty">No invoices yet.</p>')
                + "<h2>Viability</h2>" + viability)
    return await _render(request, "Finance", build, roles=("hub", "finance"), current="/dashboard/finance")


async def _viability(api: Api, user: dict, chosen: str | None, invoices: list[dict]) -> str:
    """One home's revenue against its cost base month by month (pick the home in the form)."""
    if user["role"] == "hub":
        homes = [h for h in items(await api.get("/v1/homes")) if h["status"] == "live"]
        choices = [(h["id"], h["name"], h["registered_places"]) for h in sorted(homes, key=lambda h: h["name"])]
    else:  # finance reads no homes: the homes its latest invoices charge for
        latest = sorted(invoices, key=lambda i: str(i["period_start"]))[-3:]
        seen: dict[str, None] = {}
        for inv in await api.gather(*[api.get(f"/v1/invoices/{i['id']}") for i in latest]):
            for line in inv.get("lines", []):
                if line.get("home_id"):
                    seen.setdefault(line["home_id"], None)
        # each home's name from matching's profile (finance holds homes:read for it; no residents, no beds)
        profiles = await api.gather(*[api.get(f"/v1/homes/{h}/profile", allow=(403, 404)) for h in seen])
        names = {h: p["name"] for h, p in zip(seen, profiles) if p}
        choices = sorted(((h, names.get(h) or f"Home {h[:8]}", 3) for h in seen), key=lambda c: c[1])
    if not choices:
        return '<p class="empty">No home to show.</p>'
    home_id, name, places = next((c for c in choices if c[0] == chosen), choices[0])
    today = date.today()
    first = date(today.year - (today.month <= 11), (today.month - 11 - 1) % 12 + 1, 1)
    v = await api.get(f"/v1/viability/homes/{home_id}", {"from": f"{first:%Y-%m}", "to": f"{today:%Y-%m}",
                                                         "places": places})
    picker = ('<form method="get" action="/dashboard/finance" class="stack"><div><label for="home">Home</label>'
              '<select id="home" name="home">' + "".join(
                  f'<option value="{e(i)}"{" selected" if i == home_id else ""}>{e(n)}</option>' for i, n, _ in choices)
              + '</select></div><button type="submit" class="secondary">Show</button></form>')
    months = v.get("months", [])
    rows = [[e(str(m["month"])[:7]), e(f"{round((m.get('occupancy') or 0) * 100)}%"), e(pounds(m.get("revenue_pence"))),
             e(pounds(m.get("cost_pence"))), e(pounds(m.get("surplus_pence"))),
             e("-" if m.get("break_even_occupancy") is None else f"{round(m['break_even_occupancy'] * 100)}%")]
             for m in months]
    even = v.get("first_month_at_break_even")
    return (picker + viability_chart(months, f"{name}: revenue against cost, last 12 months")
            + f'<p>First month at break-even: {e(str(even)[:7] if even else "not yet")}.</p>'
            + '<details><summary>The figures behind the chart</summary>'
            + table(f"{name}: viability by month", ["Month", "Occupancy", "Revenue", "Cost", "Surplus",
                                                    "Break-even occupancy"], rows) + "</details>")


@router.post("/finance/close")
async def close_period(request: Request):
    async def action(api: Api, user, form):
        start = str(form.get("period_start", ""))
        try:
            await api.write("POST", "/v1/fee-periods/close", {"period_start": start})
        except ApiError as exc:
            from urllib.parse import quote
            return f"/dashboard/finance?error={quote(exc.detail[:300])}"
        return f"/dashboard/finance?closed={start[:7]}"
    return await _act(request, action, roles=("hub", "finance"))


@router.get("/invoices/{invoice_id}/download/{fmt}")
async def download(invoice_id: str, fmt: str, request: Request):
    try:
        user = await _user(request)
    except SignInNeeded:
        return RedirectResponse("/dashboard/sign-in", status_code=303)
    if user["role"] not in ("hub", "finance") or fmt not in ("pdf", "csv", "json"):
        return Response(status_code=404)
    api = Api(request.app, user["token"])
    try:
        r = await api.raw("GET", f"/v1/invoices/{invoice_id}/download/{fmt}")
    finally:
        await api.close()
    if r.status_code != 200:
        return Response(status_code=r.status_code)
    return _keep(request, Response(r.content, media_type=r.headers.get("content-type"), headers={
        "Content-Disposition": r.headers.get("content-disposition", "attachment"), "Cache-Control": "no-store"}))
