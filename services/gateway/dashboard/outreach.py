"""The dashboard's Outreach page (issue 16): the outreach teams' caseloads (matching's /v1/outreach-teams) and the
outreach evidence report (outcomes' /v1/reports/outreach): placements held and broken down, time to stabilise,
fees paid against the breakdown costs avoided, with each council's assumed cost of a breakdown, which the hub
may change here (If-Match, as any client would). All through the public API as the signed-in user."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import quote

from fastapi import Request

from .api import Api, ApiError, items
from .html import badge, bar_chart, e, label, setting, table
from .views import Forbidden, _act, _csrf_of, _range, _render, hub_report_csv, router

CHECKPOINT_NAMES = {"6_weeks": "6 weeks", "3_months": "3 months", "6_months": "6 months"}
STATE_KIND = {"held": "green", "broke": "red", "pending": "neutral"}


def _money(x: str | None) -> str:
    """A decimal string from the API as pounds: "-188.57" -> -£188.57 (the sign before the pound sign)."""
    if x is None:
        return "-"
    amount = Decimal(x)
    return f"{'-' if amount < 0 else ''}£{abs(amount):,.2f}"


def _teams(teams: list[dict]) -> str:
    rows = []
    for t in sorted(teams, key=lambda t: t["name"]):
        why = ", ".join(label(n["reason"]) for n in t.get("not_offered_because", []))
        rows.append([e(t["name"]), e(label(t["region"])), e(t["base_postcode_district"]), e(t["practitioners"]),
                     f'{e(t["caseload"])} of {e(t["caseload_limit"])}',
                     badge(f'{t["capacity_left"]} free', "green" if t["capacity_left"] else "red"),
                     e(", ".join(label(s) for s in t["specialisms"]) or "-"), e(t["reach_miles"]),
                     e(label(t["status"])) + (f'<br><span class="meta">{e(why)}</span>' if why else "")])
    chart = bar_chart([(t["name"], float(t["caseload"]), f'{t["caseload"]} of {t["caseload_limit"]}')
                       for t in sorted(teams, key=lambda t: t["name"])], "Open interventions per team (caseload)",
                      note="Each team's caseload limit is in the table")
    return chart + table("Outreach teams and their caseloads", [
        "Team", "Region", "Base", "Practitioners", "Caseload", "Capacity", "Specialisms", "Reach (miles)",
        "Status"], rows, empty="No outreach team yet.")


def _figures_row(name: str, g: dict) -> list[str]:
    cps = g["checkpoints"]
    return [e(name), e(g["interventions"]), e(g["placements_held"]), e(g["placements_broken_down"]),
            e(g["placements_open"]),
            *[e(f'{cps[c]["held"]} held, {cps[c]["broke"]} broke, {cps[c]["pending"]} pending') for c in CHECKPOINT_NAMES],
            e(g["median_days_to_stabilise"] or "-"), e(_money(g["fees_paid"])),
            e(_money(g["breakdown_costs_avoided"])), e(_money(g["net_saving"])), e(g["return_on_investment"] or "-")]


FIGURE_HEADERS = ["Interventions", "Placements held", "Broken down", "Open", "At 6 weeks", "At 3 months",
                  "At 6 months", "Median days to stabilise", "Fees paid", "Breakdown costs avoided", "Net saving",
                  "Return on investment"]


def _settings(rep: dict, settings: dict[str, dict], csrf: str, start: date, end: date) -> str:
    rows = []
    for la in sorted(set(rep["breakdown_cost"]) | set(settings)):
        s = settings.get(la)
        if s is None:
            continue
        who = "default" if s["default"] else f'{s["updated_by"]}, {str(s["updated_at"])[:16].replace("T", " ")}'
        form = (f'<form method="post" action="/dashboard/outreach/settings/{e(la)}" class="inline">'
                f'<input type="hidden" name="csrf" value="{e(csrf)}">'
                f'<input type="hidden" name="version" value="{e(s["version"])}">'
                f'<input type="hidden" name="from" value="{e(start)}"><input type="hidden" name="to" value="{e(end)}">'
                f'<label for="cost-{e(la)}">New cost for {e(la)} (£)</label>'
                f'<input id="cost-{e(la)}" name="breakdown_cost" inputmode="decimal" size="10" '
                f'value="{e(s["breakdown_cost"])}" required> <button type="submit" class="secondary">Change</button></form>')
        rows.append([e(la), e(_money(s["breakdown_cost"])), e(who), form])
    return table("The assumed cost of a breakdown per council", ["Council", "Assumed cost", "Set by", "Change"], rows,
                 empty="No council has an outreach intervention in the range.")


@router.get("/outreach")
async def outreach_page(request: Request):
    async def build(api: Api, user):
        start, end = _range(request)
        teams, rep = await api.gather(api.get("/v1/outreach-teams", allow=(403, 404)),
                                      api.get("/v1/reports/outreach", {"from": str(start), "to": str(end)}))
        teams = items(teams or [])
        councils = sorted(rep["breakdown_cost"])
        settings = dict(zip(councils, await api.gather(*[api.get(f"/v1/reports/outreach/settings/{la}")
                                                         for la in councils])))
        names = {str(t["id"]): t["name"] for t in teams}
        notice = ""
        if request.query_params.get("changed"):
            notice = f'<p class="notice" role="status">Assumed cost of a breakdown changed for {e(request.query_params["changed"])}.</p>'
        if request.query_params.get("error"):
            notice += f'<p class="error" role="alert">{e(request.query_params["error"])}</p>'
        picker = ('<form method="get" action="/dashboard/outreach" class="filters">'
                  f'<div><label for="from">From</label><input type="date" id="from" name="from" value="{start}"></div>'
                  f'<div><label for="to">To</label><input type="date" id="to" name="to" value="{end}"></div>'
                  '<button type="submit" class="secondary">Show</button></form>')
        csv_link = (f'<p><a class="button" href="/dashboard/outreach/report.csv?from={start}&amp;to={end}" download>'
                    'Download the outreach report (CSV)</a></p>')
        team_rows = [_figures_row(names.get(g["team_id"], f'Team {g["team_id"][:8]}'), g) for g in rep["teams"]]
        council_rows = [_figures_row(g["la_code"], g) for g in rep["councils"]] + [_figures_row("All", rep["all"])]
        roi = [(names.get(g["team_id"], f'Team {g["team_id"][:8]}'),
                float(g["return_on_investment"]) if g["return_on_investment"] is not None else None,
                g["return_on_investment"] or "no fees yet") for g in rep["teams"]]
        per = []
        for it in rep["interventions"]:
            cps = " ".join(badge(f'{CHECKPOINT_NAMES[c]}: {label(v)}', STATE_KIND[v])
                           for c, v in it["checkpoints"].items())
            per.append([e(it.get("child_ref") or it["referral_id"][:8]), e(it["la_code"]),
                        e(names.get(it["team_id"], it["team_id"][:8])), e(label(it["basis"]) or "-"),
                        e(setting(it["current_setting"]) or "-"), e(it["start_date"] or "-"), e(label(it["status"])),
                        cps, e(it["days_to_stabilise"] if it["days_to_stabilise"] is not None else "-"),
                        e(_money(it["fees_paid"])), e(_money(it["breakdown_costs_avoided"]))])
        return (notice + "<h2>Teams</h2>" + _teams(teams)
                + "<h2>Return on investment</h2>" + picker
                + '<p class="meta">Interventions overlapping the range. A placement counts as held when its latest '
                  'follow-up (6 weeks, 3 and 6 months after the intervention closed) says it held and none says it '
                  'broke; each held placement avoids the council\'s assumed cost of a breakdown. Return on investment '
                  'is (costs avoided - fees paid) / fees paid.</p>' + csv_link
                + bar_chart(roi, "Return on investment per team", note="Above zero: the costs avoided exceed the fees")
                + table("Outreach evidence per team", ["Team", *FIGURE_HEADERS], team_rows,
                        empty="No intervention in the range.", cls="figures")
                + table("Outreach evidence per council", ["Council", *FIGURE_HEADERS], council_rows, cls="figures")
                + table("Interventions", ["Child (council reference)", "Council", "Team", "Basis", "Lives in",
                                          "Started", "Status", "Follow-ups", "Days to stabilise", "Fees paid",
                                          "Costs avoided"], per, empty="No intervention in the range.")
                + "<h2>Assumed cost of a breakdown</h2>" + _settings(rep, settings, _csrf_of(request), start, end))
    return await _render(request, "Outreach", build, roles=("hub",), current="/dashboard/outreach")


@router.post("/outreach/settings/{la_code}")
async def change_setting(la_code: str, request: Request):
    async def action(api: Api, user, form):
        back = f"/dashboard/outreach?from={quote(str(form.get('from', '')))}&to={quote(str(form.get('to', '')))}"
        r = await api.raw("PUT", f"/v1/reports/outreach/settings/{quote(la_code)}",
                          json={"breakdown_cost": str(form.get("breakdown_cost", "")).strip().lstrip("£").replace(",", "")},
                          headers={"If-Match": f'"{form.get("version", "")}"'})
        if r.status_code != 200:
            detail = "; ".join(x.get("message", "") for x in r.json().get("errors", [])) or r.json().get("detail", "")
            return f"{back}&error={quote(('The cost was not changed: ' + detail)[:300])}"
        return f"{back}&changed={quote(la_code)}"
    return await _act(request, action, roles=("hub",))


@router.get("/outreach/report.csv")
async def outreach_csv(request: Request):
    return await hub_report_csv(request, "outreach")


__all__ = ["router", "Forbidden", "ApiError"]
