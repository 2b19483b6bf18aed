"""The 3-bed blueprint scenario of the domain (domain.md, "Rolling admissions"), driven through the real
APIs at the gateway: children A, B and C are admitted into the blueprint home a month apart (1/3, 2/3,
3/3: one child in Phase 1 at a time), A steps down to foster care after 12 months, and D is admitted
into A's freed bed, which became the home's Pathway Bed. History is recorded back-dated (arrival
dates in the past), so today the home shows one child in Phase 1 and the rest in Phase 2.

Before the children, billing is given what charges them (through its API too): the council's spot contract
with its fee schedule (Phase 1 enhanced assessment fee, Phase 2 standard therapeutic fee) from the month A
arrived, and the blueprint home's monthly cost base from that month to this one, so the home's viability
(GET /v1/viability/homes/<home>?from=&to=) shows a real curve reaching break-even as the home fills."""
from __future__ import annotations

import asyncio
import uuid
from datetime import date, timedelta

import httpx

from services.assessment.domain.calendar import add_months
from services.matching.seed import BLUEPRINT_HOME_ID

SECTIONS = {"needs_and_history_summary": "Coded needs and history summary.",
            "safety_and_risk_plan": "Safety and risk plan from the first 72 hours.",
            "therapeutic_plan": "Weekly therapy; trauma-informed daily care.",
            "education_plan": "Education baseline done; return to school.", "health_plan": "GP, dentist, CAMHS.",
            "family_and_network": "Family time plan; professional network mapped.",
            "step_down_goals": "Step across to foster care within 12 months."}
CHILDREN = ("A", "B", "C", "D")
COUNCIL = "E10000018"
PHASE_1_WEEKLY, PHASE_2_WEEKLY = 520000, 378900    # pence a week: the enhanced and the standard fee
MONTHLY_COST = 4200000                             # pence a month: the blueprint home's cost base


def _money(pence: int) -> dict:
    return {"amount": f"{pence // 100}.{pence % 100:02d}", "currency": "GBP"}


def cost_months(today: date) -> list[date]:
    """The months of the story: from the month A arrived to this one."""
    out, m = [], start_of_story(today).replace(day=1)
    while m <= today.replace(day=1):
        out.append(m)
        m = add_months(m, 1)
    return out


def start_of_story(today: date) -> date:
    """A arrived 12 months and 2 weeks ago, so A stepped down (after 12 months) two weeks ago and D,
    arriving that day, is in Phase 1 today while B and C are in Phase 2."""
    return add_months(today, -12) - timedelta(days=14)


def arrivals(today: date) -> dict[str, date]:
    t0 = start_of_story(today)
    return {"A": t0, "B": add_months(t0, 1), "C": add_months(t0, 2), "D": add_months(t0, 12)}


async def blueprint_placements(client: httpx.AsyncClient, hub: dict) -> list[dict]:
    """Every placement in the blueprint home: GET /v1/placements answers a page at a time."""
    out, cursor = [], None
    while True:
        r = await client.get("/v1/placements", headers=hub,
                             params={"home": BLUEPRINT_HOME_ID, "limit": 200, **({"cursor": cursor} if cursor else {})})
        r.raise_for_status()
        page = r.json()
        out += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out


async def _until(fetch, timeout: float = 30.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await fetch()
        if value:
            return value
        if loop.time() > deadline:
            raise TimeoutError("the blueprint scenario waited too long for an event to arrive")
        await asyncio.sleep(0.05)


def _referral(name: str, today: date) -> dict:
    born = today.replace(year=today.year - 14) - timedelta(days=60 if today.month != 2 else 30)
    return {"child_ref": f"BLUEPRINT-{name}", "date_of_birth": str(born), "sex": "female" if name in "AC" else "male",
            "legal_status": "C2", "category_of_need": "N1",  # the SSDA903 episodes need both
            "home_postcode": "LE4 6AB", "urgency": "planned", "wanted_start_date": str(today),
            "needs": [{"code": "mental_health", "severity": "medium"}], "risks": [],
            "social_worker": {"name": "Blueprint Social Worker", "email": "social.worker@example.gov.uk"}}


class Blueprint:
    def __init__(self, client: httpx.AsyncClient, hub: dict, council: dict, today: date | None = None):
        self.client, self.hub, self.council = client, hub, council
        self.today = today or date.today()

    async def _post(self, url: str, body: dict | None = None, method: str = "POST") -> dict:
        r = await self.client.request(method, url, json=body, headers={**self.hub, "Idempotency-Key": str(uuid.uuid4())})
        if r.status_code not in (200, 201):
            raise RuntimeError(f"{method} {url}: {r.status_code} {r.text}")
        return r.json()

    async def charges(self) -> dict:
        """The council's spot contract and fee schedule from the month A arrived, and the home's cost base."""
        first = start_of_story(self.today).replace(day=1)
        contract = await self._post("/v1/contracts", {"la_code": COUNCIL, "name": "Blueprint spot contract (demo)",
                                                      "form": "spot", "start_date": str(first)})
        await self._post(f"/v1/contracts/{contract['id']}/fee-schedules", {
            "effective_from": str(first), "phase_1_weekly": _money(PHASE_1_WEEKLY),
            "phase_2_weekly": _money(PHASE_2_WEEKLY)})
        for month in cost_months(self.today):
            await self._post(f"/v1/viability/homes/{BLUEPRINT_HOME_ID}/costs/{month:%Y-%m}",
                             {"amount": _money(MONTHLY_COST), "category": "total"}, method="PUT")
        return contract

    async def admit(self, name: str) -> dict:
        """Refer (as the council), accept into the blueprint home (as the hub), wait for the placement."""
        r = await self.client.post("/v1/referrals", json=_referral(name, self.today),
                                   headers={**self.council, "Idempotency-Key": f"blueprint-{name}-{uuid.uuid4()}"})
        if r.status_code != 201:
            raise RuntimeError(f"referral {name}: {r.status_code} {r.text}")
        referral_id = r.json()["id"]

        async def known_to_matching():
            m = await self.client.get(f"/v1/referrals/{referral_id}/matches", headers=self.hub)
            return m.status_code == 200
        await _until(known_to_matching)
        await self._post("/v1/admissions", {"referral_id": referral_id, "decision": "accept",
                                            "home_id": BLUEPRINT_HOME_ID, "planned_start_date": str(self.today)})

        async def placed():
            return next((x for x in await blueprint_placements(self.client, self.hub)
                         if x["referral_id"] == referral_id), None)
        return await _until(placed)

    async def _phase_2_in_matching(self, placement_id: str) -> None:
        async def moved():
            r = await self.client.get(f"/v1/homes/{BLUEPRINT_HOME_ID}/residents", headers=self.hub)
            return any(x["placement_id"] == placement_id and x["phase"] == "phase_2" for x in r.json()["items"])
        await _until(moved)

    async def through_phase_1(self, placement: dict, arrival: date) -> dict:
        """Arrival, the foundation tasks, the Initial Pathway Plan by day 28, Phase 2 from day 29."""
        pid = placement["id"]
        await self._post(f"/v1/placements/{pid}/arrival", {"arrival_date": str(arrival), "key_worker": "KW",
                                                          "therapeutic_lead": "TL"})
        tasks = (await self.client.get(f"/v1/placements/{pid}/tasks", headers=self.hub)).json()["items"]
        for task in tasks:
            if task["done_on"] is None and date.fromisoformat(task["due_date"]) <= self.today:
                await self._post(f"/v1/placements/{pid}/tasks/{task['code']}/complete", {"done_on": task["due_date"]})
        plan = await self.client.get(f"/v1/placements/{pid}/plan", headers=self.hub)
        r = await self.client.patch(f"/v1/plans/{plan.json()['id']}", json={"sections": SECTIONS},
                                    headers={**self.hub, "If-Match": plan.headers["etag"]})
        if r.status_code != 200:
            raise RuntimeError(f"plan edit: {r.status_code} {r.text}")
        await self._post(f"/v1/plans/{plan.json()['id']}/issue",
                         {"issued_on": str(min(arrival + timedelta(days=27), self.today))})
        day_29 = arrival + timedelta(days=28)
        if day_29 <= self.today:
            await self._post(f"/v1/placements/{pid}/phase-2", {"effective_date": str(day_29),
                                                              "reason": "Recorded from the blueprint history"})
            await self._phase_2_in_matching(pid)
        return placement

    async def reviews_due_by(self, placement: dict, until: date) -> None:
        while True:
            reviews = (await self.client.get(f"/v1/placements/{placement['id']}/reviews", headers=self.hub)).json()["items"]
            open_review = next((r for r in reviews if r["completed_on"] is None), None)
            if open_review is None or date.fromisoformat(open_review["due_date"]) > min(until, self.today):
                return
            await self._post(f"/v1/reviews/{open_review['id']}/complete", {
                "completed_on": open_review["due_date"], "attendees": ["social_worker", "key_worker",
                                                                       "therapeutic_lead"],
                "findings": "Progress reviewed; plan updated."})

    async def run(self) -> dict[str, str]:
        when = arrivals(self.today)
        await self.charges()
        placed = {}
        for name in ("A", "B", "C"):
            placed[name] = await self.through_phase_1(await self.admit(name), when[name])
        a = placed["A"]
        a_leaves = when["D"]
        await self.reviews_due_by(a, a_leaves)
        await self._post(f"/v1/placements/{a['id']}/step-down", {
            "destination": "foster_care", "target_date": str(a_leaves),
            "readiness_notes": "Introductions to the foster family completed"}, method="PUT")
        await self._post(f"/v1/placements/{a['id']}/ending", {"end_date": str(a_leaves), "ending_type": "step_down",
                                                             "destination": "foster_care", "reason_code": "X1",
                                                             "reason_place_change": "CARPL"})

        async def freed():  # A's bed is the home's Pathway Bed again
            beds = (await self.client.get(f"/v1/homes/{BLUEPRINT_HOME_ID}/beds", headers=self.hub)).json()["items"]
            return any(b["id"] == a["bed_id"] and b["state"] == "vacant" and b["is_pathway"] for b in beds)
        await _until(freed)
        placed["D"] = await self.through_phase_1(await self.admit("D"), when["D"])
        for name in ("B", "C", "D"):
            await self.reviews_due_by(placed[name], self.today)
        return {name: p["id"] for name, p in placed.items()}


async def already_seeded(client: httpx.AsyncClient, hub: dict) -> bool:
    r = await client.get("/v1/placements", params={"home": BLUEPRINT_HOME_ID, "limit": 1}, headers=hub)
    return r.status_code == 200 and bool(r.json()["items"])
