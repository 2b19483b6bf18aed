"""The demo region: the hub's spoke homes across Leicestershire and its neighbours, with children at every
point of the pathway, seeded through the real APIs at the gateway (as itp/blueprint.py does).

Deterministic: every home, child and date comes from the tables below and one fixed seed (REGION_SEED, used
for the children's birthdays); dates are relative to today so the picture is the same whichever day the demo
starts. Idempotent: the region is seeded once (the onboarding home, made last, is the marker).

What the hub sees after seeding:
- eight spoke homes (plus the blueprint home) in real postcode districts the matching service can place:
  sizes 2-4, different registrations, specialisms and Ofsted ratings; some with a free Pathway Bed, one
  still onboarding (not live), one suspended;
- children placed back-dated so today there is Phase 1 with a foundation task overdue and tasks due soon,
  Phase 2 with a 90-day review coming, a step-down planned and one unplanned ending;
- crisis and urgent referrals from both councils waiting in the queue, which get ranked options;
- SDQs (with education, health and stability) recorded at the measurement points already due, so the
  placement pages chart progress against the bands and the outcomes page has cohort figures; a few points
  are left missing (an overdue baseline, a six-monthly point, groups not yet recorded);
- Leicester City's spot contract, each live home's monthly cost base, and the fee periods closed up to two
  months ago (the last full month is left for finance to close);
- two outreach teams (issue 16) with a live caseload: children living with foster carers, with an IFA, at home,
  in another provider's home and in hospital, referred for outreach and accepted (fixed fee or weekly); the
  Nottingham team is at its caseload limit, so the outreach referrals waiting in the queue (one from a council,
  one opened by a step-down's outreach handoff) are offered the Leicestershire team only, and the ranking says
  why. Their interventions are under way: started, sessions
  logged with the people around each child, one closed stabilised with its 6-week follow-up
  held (CASELOAD); Leicester City's schedule prices weekly outreach and the fixed fee, and Leicestershire buys
  outreach by a yearly retainer (4 interventions a year, in monthly parts).
"""
from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

import httpx

from libs.common.ids import intervention_id_for
from services.assessment.domain.calendar import add_months

from .blueprint import SECTIONS, _money, _until, start_of_story

REGION_SEED = 20260514
CHECKLIST = ("registration_verified", "registered_manager_appointed", "staff_trained_in_therapeutic_model",
             "therapeutic_governance_checklist_complete", "safeguarding_policies_in_place",
             "council_partner_agreement_signed")
LEICESTERSHIRE, LEICESTER = "E10000018", "E06000016"
PHASE_1_WEEKLY, PHASE_2_WEEKLY = 520000, 378900

_BOTH = ["female", "male"]
_EBD = "emotional_behavioural_difficulties"
# key: (urn, name, address, postcode, places, ages, sexes, categories, specialisms, rating, state)
HOMES: list[dict] = [
    dict(key="charnwood", urn="SC900011", name="Charnwood View", address="4 Forest Road, Loughborough",
         postcode="LE11 3NP", registered_places=4, age_min=10, age_max=17, sexes=_BOTH,
         categories=[_EBD, "mental_disorders"], specialisms=["complex_mental_health", "trauma_informed"],
         ofsted_rating="outstanding", state="live"),
    dict(key="hinckley", urn="SC900012", name="Hinckley Lodge", address="22 Coventry Road, Hinckley",
         postcode="LE10 0JT", registered_places=3, age_min=11, age_max=17, sexes=_BOTH,
         categories=[_EBD, "drug_alcohol_misuse"], specialisms=["substance_misuse", "youth_justice_step_down"],
         ofsted_rating="good", state="live"),
    dict(key="melton", urn="SC900013", name="Melton Grange", address="9 Scalford Road, Melton Mowbray",
         postcode="LE13 1JY", registered_places=2, age_min=10, age_max=16, sexes=_BOTH,
         categories=[_EBD, "mental_disorders"], specialisms=["child_exploitation"],
         ofsted_rating="good", state="live"),
    dict(key="harborough", urn="SC900014", name="Harborough House", address="31 Leicester Road, Market Harborough",
         postcode="LE16 7AY", registered_places=3, age_min=12, age_max=17, sexes=_BOTH,
         categories=[_EBD, "learning_disability"], specialisms=["neurodiversity"],
         ofsted_rating="requires_improvement", state="live"),
    dict(key="sherwood", urn="SC900015", name="Sherwood Lodge", address="140 Mansfield Road, Nottingham",
         postcode="NG5 2BT", registered_places=4, age_min=10, age_max=17, sexes=_BOTH,
         categories=[_EBD, "mental_disorders"], specialisms=["complex_mental_health", "child_exploitation"],
         ofsted_rating="good", state="live"),
    dict(key="welland", urn="SC900016", name="Welland Cottage", address="3 Ryhall Road, Stamford",
         postcode="PE9 1UF", registered_places=2, age_min=12, age_max=17, sexes=["female"],
         categories=[_EBD, "mental_disorders"], specialisms=["trauma_informed", "harmful_sexual_behaviour"],
         ofsted_rating="good", state="live"),
    dict(key="trent", urn="SC900017", name="Trent Side", address="18 Swadlincote Road, Woodville",
         postcode="DE11 8DA", registered_places=3, age_min=11, age_max=17, sexes=["male"],
         categories=[_EBD], specialisms=["youth_justice_step_down"],
         ofsted_rating="requires_improvement", state="suspended"),
    dict(key="nuneaton", urn="SC900018", name="Nuneaton Mews", address="7 Manor Court Road, Nuneaton",
         postcode="CV11 5HX", registered_places=2, age_min=10, age_max=16, sexes=_BOTH,
         categories=[_EBD, "mental_disorders"], specialisms=["complex_mental_health"],
         ofsted_rating=None, state="onboarding"),
]
MARKER_URN = "SC900018"  # the onboarding home: made last, so its presence means the region is seeded

# story: phase_2 (arrived `days` ago, through Phase 1), phase_1 (arrived `days` ago, tasks done except `skip`),
# step_down (phase_2 with a planned step-down), ended (phase_2, then an unplanned ending `ended_days` ago),
# handed_off (phase_2, then a step-down `ended_days` ago into another provider's home, handing the child to weekly
# outreach there: the referral service opens the outreach referral, which waits in the hub's queue)
CHILDREN: list[dict] = [
    dict(ref="LCC-2025-0107", la=LEICESTERSHIRE, home="charnwood", sex="female", age=15, days=300, story="step_down",
         needs=["mental_health", "camhs_involvement"], risks=["self_harm"]),
    dict(ref="LC-2025-0220", la=LEICESTER, home="charnwood", sex="male", age=13, days=150, story="phase_2",
         needs=["trauma"], risks=["missing_episodes"]),
    dict(ref="LCC-2025-0190", la=LEICESTERSHIRE, home="hinckley", sex="male", age=16, days=78, story="phase_2",
         needs=["substance_misuse"], risks=["youth_justice"]),
    dict(ref="LC-2026-0031", la=LEICESTER, home="hinckley", sex="male", age=15, days=10, story="phase_1",
         skip=["safety_and_risk_plan"], needs=["substance_misuse"], risks=["violence_to_staff"]),
    dict(ref="LCC-2025-0133", la=LEICESTERSHIRE, home="melton", sex="female", age=14, days=240, story="phase_2",
         needs=["mental_health"], risks=["criminal_exploitation_risk", "missing_episodes"]),
    dict(ref="LC-2025-0177", la=LEICESTER, home="melton", sex="female", age=13, days=70, story="ended",
         ended_days=6, needs=["trauma"], risks=["missing_episodes"]),
    dict(ref="LCC-2025-0061", la=LEICESTERSHIRE, home="welland", sex="female", age=16, days=230, story="handed_off",
         ended_days=3, needs=["trauma"], risks=["self_harm"]),
    dict(ref="LCC-2025-0088", la=LEICESTERSHIRE, home="harborough", sex="male", age=14, days=200, story="phase_2",
         needs=["neurodiversity", "ehcp"], risks=[]),
    dict(ref="LCC-2026-0019", la=LEICESTERSHIRE, home="harborough", sex="female", age=15, days=12, story="phase_1",
         skip=[], needs=["learning_disability"], risks=["bullying_victim"]),
    dict(ref="LC-2025-0064", la=LEICESTER, home="sherwood", sex="female", age=16, days=280, story="phase_2",
         needs=["mental_health"], risks=["self_harm"]),
    dict(ref="LCC-2025-0151", la=LEICESTERSHIRE, home="sherwood", sex="male", age=12, days=85, story="phase_2",
         needs=["camhs_involvement"], risks=["missing_episodes"]),
    dict(ref="LC-2025-0242", la=LEICESTER, home="sherwood", sex="female", age=14, days=45, story="phase_2",
         needs=["trauma"], risks=["sexual_exploitation_risk"]),
    dict(ref="LCC-2025-0099", la=LEICESTERSHIRE, home="trent", sex="male", age=16, days=190, story="phase_2",
         needs=[], risks=["youth_justice", "violence_to_others"]),
]

# the queue: crisis and urgent referrals waiting for the hub's decision (beside itp/seed.py's three)
WAITING: list[dict] = [
    dict(ref="LC-2026-0311", la=LEICESTER, sex="male", age=13, postcode="LE3 9QG", urgency="crisis", start=0,
         legal="C2", needs=["mental_health"], risks=["self_harm", "missing_episodes"]),
    dict(ref="LCC-2026-0422", la=LEICESTERSHIRE, sex="female", age=15, postcode="LE11 2TD", urgency="crisis",
         start=1, legal="C2", needs=["trauma"], risks=["sexual_exploitation_risk", "missing_episodes"]),
    dict(ref="LC-2026-0298", la=LEICESTER, sex="male", age=16, postcode="LE2 0PD", urgency="urgent", start=3,
         legal="C1", needs=["substance_misuse"], risks=["violence_to_others", "youth_justice"]),
]
# SDQ total difficulties at baseline (day 5), day 28, day 90 and six_monthly_1, as far as each child has got;
# a point past the tuple's end is left unrecorded (LC-2026-0031's baseline and LC-2025-0064's six-monthly
# point show as overdue). The young person's own form from 16, the carer's (parent form) before.
SDQ_TOTALS: dict[str, tuple[int, ...]] = {
    "LCC-2025-0107": (24, 21, 17, 13), "LC-2025-0220": (19, 17, 15), "LCC-2025-0190": (22, 20),
    "LC-2026-0031": (), "LCC-2025-0133": (26, 25, 21), "LC-2025-0177": (20, 23), "LCC-2025-0088": (18, 16, 16),
    "LCC-2026-0019": (21,), "LC-2025-0064": (23, 22, 18), "LCC-2025-0151": (17, 16), "LC-2025-0242": (25, 22),
    "LCC-2025-0099": (21, 19, 20),
}
ONLY_SDQ_AT_LAST = ("LC-2025-0220", "LCC-2025-0190")  # education, health and stability still to record there
# the difficulty items scored as answered (not reverse-scored), spread across the four scales
_DIFFICULTY_ITEMS = (3, 5, 2, 6, 8, 12, 10, 19, 13, 18, 15, 23, 16, 22, 24)
# outreach (issue 16): the hub's outreach teams, and the children each has accepted (a live caseload); one more
# outreach referral waits in the queue
TEAMS: list[dict] = [
    dict(key="leics", name="Leicestershire outreach team", region="east_midlands", base_postcode_district="LE4",
         practitioners=4, caseload_limit=8, reach_miles=30,
         specialisms=["child_criminal_exploitation", "child_sexual_exploitation", "family_work", "self_harm"]),
    dict(key="notts", name="Nottingham outreach team", region="east_midlands", base_postcode_district="NG5",
         practitioners=2, caseload_limit=3, reach_miles=15,
         specialisms=["education_engagement", "mental_health", "neurodiversity"]),
]
OUTREACH: list[dict] = [
    dict(ref="LCC-2026-0501", la=LEICESTERSHIRE, team="leics", sex="female", age=14, postcode="LE9 6AA",
         setting="foster_care", at_risk=["placement_breakdown", "carer_resignation"], basis="fixed_fee",
         needs=["trauma"], risks=["sexual_exploitation_risk"]),
    dict(ref="LC-2026-0512", la=LEICESTER, team="leics", sex="male", age=15, postcode="LE5 4AB", setting="own_home",
         at_risk=["family_breakdown", "school_place"], basis="weekly", weeks=26, needs=["attachment_difficulties"],
         risks=["youth_justice", "missing_episodes"]),
    dict(ref="LCC-2026-0520", la=LEICESTERSHIRE, team="leics", sex="female", age=12, postcode="LE12 7AB",
         setting="ifa", at_risk=["placement_breakdown"], basis="fixed_fee", needs=["trauma"], risks=["self_harm"]),
    dict(ref="LC-2026-0533", la=LEICESTER, team="notts", sex="male", age=16, postcode="NG3 2AB",
         setting="other_residential", at_risk=["placement_breakdown", "residential_escalation"], basis="weekly",
         weeks=12, needs=["neurodiversity", "ehcp"], risks=["violence_to_staff"]),
    dict(ref="LCC-2026-0544", la=LEICESTERSHIRE, team="notts", sex="female", age=13, postcode="NG7 1AB",
         setting="hospital", at_risk=["hospital_discharge"], basis="fixed_fee", needs=["mental_health"],
         risks=["self_harm", "suicidal_ideation"]),
    dict(ref="LC-2026-0550", la=LEICESTER, team="notts", sex="male", age=11, postcode="NG9 2AB", setting="own_home",
         at_risk=["school_place"], basis="fixed_fee", needs=["education_not_in_school"], risks=[]),
]
# what each accepted child's intervention has been through (days before today): active from `started`, a session
# every `every` days with the people in turn, stepping down from `stepping`, closed (stabilised) at `closed` with
# the 6-week follow-up recorded; the others run on (the Nottingham team stays at its caseload limit)
CASELOAD: dict[str, dict] = {
    "LCC-2026-0501": dict(started=20, every=3),
    "LC-2026-0512": dict(started=61, every=7, plan=(["family_relationships", "school_attendance"], 1)),
    "LCC-2026-0520": dict(started=100, every=3, stepping=66, closed=58, stabilised=70),
    "LC-2026-0533": dict(started=30, every=6, plan=(["stabilise_placement", "emotional_regulation"], 2)),
    "LCC-2026-0544": dict(started=8, every=2),
}
WITH_WHOM = (["child"], ["child", "carers"], ["carers"], ["child", "school"], ["family", "social_worker"],
             ["child", "other_professional"])
OUTREACH_WEEKLY, OUTREACH_FIXED = 66000, 1000000      # pence: a week of outreach, a six-week intervention
RETAINER_INTERVENTIONS, RETAINER_YEARLY = 4, 3600000  # Leicestershire's retainer: 4 a year for 36,000.00
# interventions the Leicestershire team closed months ago for Leicester (the Outreach page's evidence, invoiced
# at Leicester's fixed fee): six weeks each, stabilised; two placements held at every follow-up, one broke down
# before its 3-month check
OUTREACH_HISTORY: list[dict] = [
    dict(ref="LC-2025-0470", la=LEICESTER, team="leics", sex="female", age=14, postcode="LE10 1AB",
         setting="foster_care", at_risk=["placement_breakdown"], basis="fixed_fee", needs=["trauma"],
         risks=["missing_episodes"], started_days_ago=330, stable_after=18,
         follow_ups={"6_weeks": True, "3_months": True, "6_months": True}),
    dict(ref="LC-2025-0481", la=LEICESTER, team="leics", sex="male", age=15, postcode="LE4 9AB", setting="own_home",
         at_risk=["family_breakdown"], basis="fixed_fee", needs=["attachment_difficulties"], risks=["youth_justice"],
         started_days_ago=290, stable_after=24, follow_ups={"6_weeks": True, "3_months": True, "6_months": True}),
    dict(ref="LC-2025-0492", la=LEICESTER, team="leics", sex="female", age=13, postcode="LE3 4AB",
         setting="ifa", at_risk=["placement_breakdown"], basis="fixed_fee", needs=["trauma"], risks=["self_harm"],
         started_days_ago=250, stable_after=30, follow_ups={"6_weeks": True, "3_months": False}),
]
WAITING_OUTREACH = dict(ref="LCC-2026-0561", la=LEICESTERSHIRE, sex="female", age=15, postcode="LE67 3AB",
                        setting="foster_care", at_risk=["placement_breakdown", "school_place"], basis="fixed_fee",
                        needs=["trauma"], risks=["missing_episodes", "criminal_exploitation_risk"])
HOME_MONTHLY_COST = {2: 2600000, 3: 3900000, 4: 5000000}  # pence a month by registered places
WORKER = {"name": "Demo Social Worker", "email": "social.worker@example.gov.uk", "phone": "0116 000 0000"}


def items(body):
    """A list answer, or a page of one ({"items": [...], "next_cursor": ...})."""
    return body["items"] if isinstance(body, dict) else body


def _born(today: date, age: int, rng: random.Random) -> str:
    """Age `age` today, with a birthday a fixed pseudo-random 20-300 days ago."""
    days = rng.randint(20, 300)
    try:
        birthday = today.replace(year=today.year - age)
    except ValueError:
        birthday = today.replace(year=today.year - age, day=28)
    return str(birthday - timedelta(days=days))


def sdq_items(total: int) -> dict[str, int]:
    """25 answers whose total difficulties score is `total` (0-30): prosocial items certainly true, the
    reverse-scored items certainly true (scoring 0), and 2s then a 1 over the other difficulty items."""
    answers = {str(i): 0 for i in range(1, 26)}
    for i in (1, 4, 9, 17, 20, 7, 11, 14, 21, 25):
        answers[str(i)] = 2
    left = total
    for i in _DIFFICULTY_ITEMS:
        answers[str(i)] = min(2, left)
        left -= answers[str(i)]
    return answers


class Region:
    def __init__(self, client: httpx.AsyncClient, hub: dict, councils: dict[str, dict], today: date | None = None):
        self.client, self.hub, self.councils = client, hub, councils
        self.today = today or date.today()
        self.rng = random.Random(REGION_SEED)
        self.homes: dict[str, dict] = {}

    async def _call(self, method: str, url: str, body: dict | None = None, headers: dict | None = None,
                    key: str | None = None) -> dict:
        r = await self.client.request(method, url, json=body, headers={
            **(headers or self.hub), "Idempotency-Key": key or str(uuid.uuid4())})
        if r.status_code not in (200, 201):
            raise RuntimeError(f"{method} {url}: {r.status_code} {r.text}")
        return r.json()

    async def seeded(self) -> bool:
        r = await self.client.get("/v1/homes", headers=self.hub)
        return r.status_code == 200 and any(h["urn"] == MARKER_URN for h in items(r.json()))

    # --- homes -------------------------------------------------------------------------------------------
    async def make_home(self, spec: dict) -> dict:
        body = {k: v for k, v in spec.items() if k not in ("key", "state")}
        body["registered_manager"] = f"Registered Manager, {spec['name']}"
        if spec["ofsted_rating"]:
            body["inspection_date"] = str(self.today - timedelta(days=120 + len(spec["name"]) * 7))
        else:
            body.pop("ofsted_rating")
        home = await self._call("POST", "/v1/homes", body)
        items = CHECKLIST if spec["state"] != "onboarding" else CHECKLIST[:3]
        for item in items:
            home = await self._call("PUT", f"/v1/homes/{home['id']}/checklist/{item}", {"done": True})
        if spec["state"] != "onboarding":
            home = await self._call("POST", f"/v1/homes/{home['id']}/go-live")
        return home

    # --- children ----------------------------------------------------------------------------------------
    async def refer(self, la: str, ref: str, sex: str, age: int, postcode: str, urgency: str, start: date,
                    needs: list[str], risks: list[str], legal: str = "C2") -> str:
        body = {"child_ref": ref, "date_of_birth": _born(self.today, age, self.rng), "sex": sex, "legal_status": legal,
                "home_postcode": postcode, "urgency": urgency, "wanted_start_date": str(start),
                "needs": [{"code": c, "severity": "high" if i == 0 else "medium"} for i, c in enumerate(needs)],
                "risks": [{"code": c, "severity": "high" if i == 0 else "medium"} for i, c in enumerate(risks)],
                "social_worker": WORKER}
        made = await self._call("POST", "/v1/referrals", body, headers=self.councils[la], key=f"region-{ref}")
        return made["id"]

    async def admit(self, child: dict) -> dict:
        home = self.homes[child["home"]]
        referral_id = await self.refer(child["la"], child["ref"], child["sex"], child["age"], home["postcode"],
                                       "planned", self.today, child["needs"], child["risks"])

        async def known():
            return (await self.client.get(f"/v1/referrals/{referral_id}/matches", headers=self.hub)).status_code == 200
        await _until(known)
        await self._call("POST", "/v1/admissions", {"referral_id": referral_id, "decision": "accept",
                                                    "home_id": home["id"], "planned_start_date": str(self.today)})

        async def placed():
            r = await self.client.get("/v1/placements", headers=self.hub, params={"home": home["id"], "limit": 200})
            return next((p for p in r.json()["items"] if p["referral_id"] == referral_id), None)
        return await _until(placed)

    async def arrive(self, placement: dict, arrival: date, skip: tuple[str, ...] = ()) -> None:
        pid = placement["id"]
        await self._call("POST", f"/v1/placements/{pid}/arrival", {"arrival_date": str(arrival),
                                                                   "key_worker": "Key Worker",
                                                                   "therapeutic_lead": "Therapeutic Lead"})
        tasks = items((await self.client.get(f"/v1/placements/{pid}/tasks", headers=self.hub)).json())
        for task in tasks:
            if task["done_on"] is None and task["code"] not in skip \
                    and date.fromisoformat(task["due_date"]) <= self.today:
                await self._call("POST", f"/v1/placements/{pid}/tasks/{task['code']}/complete",
                                 {"done_on": task["due_date"]})

    async def to_phase_2(self, placement: dict, arrival: date) -> None:
        pid = placement["id"]
        plan = await self.client.get(f"/v1/placements/{pid}/plan", headers=self.hub)
        r = await self.client.patch(f"/v1/plans/{plan.json()['id']}", json={"sections": SECTIONS},
                                    headers={**self.hub, "If-Match": plan.headers["etag"]})
        if r.status_code != 200:
            raise RuntimeError(f"plan edit: {r.status_code} {r.text}")
        await self._call("POST", f"/v1/plans/{plan.json()['id']}/issue", {"issued_on": str(arrival + timedelta(days=26))})
        await self._call("POST", f"/v1/placements/{pid}/phase-2", {"effective_date": str(arrival + timedelta(days=28)),
                                                                  "reason": "Recorded from the demo history"})
        home_id = placement["home_id"]

        async def moved():
            r = await self.client.get(f"/v1/homes/{home_id}/residents", headers=self.hub)
            return any(x["placement_id"] == pid and x["phase"] == "phase_2" for x in items(r.json()))
        await _until(moved)
        while True:  # reviews already due are done (each makes a new plan version)
            reviews = items((await self.client.get(f"/v1/placements/{pid}/reviews", headers=self.hub)).json())
            due = next((x for x in reviews if x["completed_on"] is None
                        and date.fromisoformat(x["due_date"]) <= self.today), None)
            if due is None:
                return
            await self._call("POST", f"/v1/reviews/{due['id']}/complete", {
                "completed_on": due["due_date"], "attendees": ["social_worker", "key_worker", "therapeutic_lead"],
                "findings": "Progress reviewed; plan updated.",
                "sections": {"therapeutic_plan": f"Weekly therapy continues; review {due['number']} goals set.",
                             "education_plan": "Full-time timetable at the local school."}})

    async def child(self, spec: dict) -> tuple[dict, date]:
        placement = await self.admit(spec)
        arrival = self.today - timedelta(days=spec["days"])
        await self.arrive(placement, arrival, tuple(spec.get("skip", ())))
        if spec["story"] == "phase_1":
            return placement, arrival
        await self.to_phase_2(placement, arrival)
        pid = placement["id"]
        if spec["story"] == "step_down":
            await self._call("PUT", f"/v1/placements/{pid}/step-down", {
                "destination": "foster_care", "target_date": str(self.today + timedelta(days=35)),
                "readiness_notes": "Introductions to the foster family under way"})
        elif spec["story"] == "handed_off":
            await self._call("POST", f"/v1/placements/{pid}/ending", {
                "end_date": str(self.today - timedelta(days=spec["ended_days"])), "ending_type": "step_down",
                "destination": "residential_home", "reason_code": "X1", "reason_place_change": "CARPL",
                "outreach_handoff": {"basis": "weekly", "planned_weeks": 26, "setting": "other_residential",
                                     "outward_code": "NG3"}})

            async def handed():
                r = await self.client.get("/v1/referrals", headers=self.councils[spec["la"]],
                                          params={"child_ref": spec["ref"], "kind": "outreach"})
                return r.status_code == 200 and r.json()["items"]
            await _until(handed)
        elif spec["story"] == "ended":
            await self._call("POST", f"/v1/placements/{pid}/ending", {
                "end_date": str(self.today - timedelta(days=spec["ended_days"])), "ending_type": "breakdown",
                "reason_code": "E8"})
        return placement, arrival

    # --- outreach (issue 16) ------------------------------------------------------------------------------
    async def refer_outreach(self, spec: dict) -> str:
        body = {"kind": "outreach", "child_ref": spec["ref"], "date_of_birth": _born(self.today, spec["age"], self.rng),
                "sex": spec["sex"], "home_postcode": spec["postcode"], "urgency": "urgent",
                "current_setting": spec["setting"], "at_risk": spec["at_risk"], "outreach_basis": spec["basis"],
                "needs": [{"code": c, "severity": "high" if i == 0 else "medium"} for i, c in enumerate(spec["needs"])],
                "risks": [{"code": c, "severity": "high" if i == 0 else "medium"} for i, c in enumerate(spec["risks"])],
                "social_worker": WORKER}
        if spec.get("weeks"):
            body["outreach_planned_weeks"] = spec["weeks"]
        made = await self._call("POST", "/v1/referrals", body, headers=self.councils[spec["la"]],
                                key=f"region-{spec['ref']}")
        return made["id"]

    async def outreach(self) -> dict[str, str]:
        """The teams, each child referred for outreach and accepted for its team (the teams' live caseload), and
        one outreach referral left waiting; the teams' ids by key."""
        teams = {t["key"]: await self._call("POST", "/v1/outreach-teams", {k: v for k, v in t.items() if k != "key"},
                                            key=f"region-team-{t['key']}") for t in TEAMS}
        for spec in OUTREACH:
            referral_id = await self.refer_outreach(spec)

            async def known():
                r = await self.client.get(f"/v1/referrals/{referral_id}/matches", headers=self.hub)
                return r.status_code == 200
            await _until(known)
            decision = await self._call("POST", "/v1/admissions", {"referral_id": referral_id, "decision": "accept",
                                                                   "team_id": teams[spec["team"]]["id"],
                                                                   "planned_start_date": str(self.today)})
            if spec["ref"] in CASELOAD:
                await self.intervention(intervention_id_for(decision["id"]), CASELOAD[spec["ref"]])
        await self.refer_outreach(WAITING_OUTREACH)
        return {k: t["id"] for k, t in teams.items()}

    async def intervention(self, intervention_id: str, story: dict) -> None:
        """The intervention the acceptance made (assessment hears of it by event): started, sessions logged with
        the people around the child (codes only), stepped down, closed and followed up as the story says."""
        url = f"/v1/interventions/{intervention_id}"

        async def made():
            return (await self.client.get(url, headers=self.hub)).status_code == 200
        await _until(made)

        async def move(body: dict) -> None:
            etag = (await self.client.get(url, headers=self.hub)).headers["etag"]
            r = await self.client.patch(url, json=body, headers={**self.hub, "If-Match": etag})
            if r.status_code != 200:
                raise RuntimeError(f"PATCH {url}: {r.status_code} {r.text}")
        day = lambda n: str(self.today - timedelta(days=n))  # noqa: E731
        await move({"status": "active", "effective_date": day(story["started"])})
        if "plan" in story:
            etag = (await self.client.get(url, headers=self.hub)).headers["etag"]
            goals, per_week = story["plan"]
            await self.client.put(f"{url}/plan", json={"goals": goals, "sessions_per_week": per_week},
                                  headers={**self.hub, "If-Match": etag})
        last = story.get("closed", 0)
        for n, ago in enumerate(range(story["started"] - 1, last, -story["every"])):
            if story.get("stepping") is not None and ago <= story["stepping"] and n % 2:
                continue  # sessions taper off while stepping down
            await self._call("POST", f"{url}/sessions", {"session_date": day(ago), "minutes": 60 + 15 * (n % 5),
                                                         "with_whom": WITH_WHOM[n % len(WITH_WHOM)]})
        if story.get("stepping") is not None:
            await move({"status": "stepping_down", "effective_date": day(story["stepping"])})
        if story.get("closed") is not None:
            await move({"status": "closed", "effective_date": day(story["closed"]), "outcome": "stabilised",
                        "stabilised_on": day(story["stabilised"])})
            await self._call("POST", f"{url}/follow-ups", {"checkpoint": "6_weeks", "held": True,
                                                          "recorded_on": day(story["closed"] - 42)})

    async def outreach_history(self, teams: dict[str, str]) -> None:
        """Interventions the Leicestershire team ran and closed months ago, with their sessions and follow-ups
        (OUTREACH_HISTORY): the Outreach page's evidence (placements held, time to stabilise, costs avoided).
        They are closed, so the team's live caseload is as OUTREACH leaves it."""
        for spec in OUTREACH_HISTORY:
            referral_id = await self.refer_outreach(spec)

            async def known():
                r = await self.client.get(f"/v1/referrals/{referral_id}/matches", headers=self.hub)
                return r.status_code == 200
            await _until(known)
            admission = await self._call("POST", "/v1/admissions", {
                "referral_id": referral_id, "decision": "accept", "team_id": teams[spec["team"]],
                "planned_start_date": str(self.today)})
            url = f"/v1/interventions/{intervention_id_for(admission['id'])}"

            async def made():
                r = await self.client.get(url, headers=self.hub)
                return r if r.status_code == 200 else None
            etag = (await _until(made)).headers["etag"]
            start = self.today - timedelta(days=spec["started_days_ago"])
            end = start + timedelta(weeks=6)
            async def move(body: dict, etag: str) -> str:
                r = await self.client.patch(url, json=body, headers={**self.hub, "If-Match": etag})
                if r.status_code != 200:
                    raise RuntimeError(f"PATCH {url}: {r.status_code} {r.text}")
                return r.headers["etag"]
            etag = await move({"status": "active", "effective_date": str(start)}, etag)
            for week in range(6):  # sessions are logged while it runs
                await self._call("POST", f"{url}/sessions", {
                    "session_date": str(start + timedelta(days=7 * week + 1)), "minutes": 120,
                    "with_whom": ["child", "carers"] if week % 2 == 0 else ["child", "school"]})
            await move({"status": "closed", "effective_date": str(end), "outcome": "stabilised",
                        "stabilised_on": str(start + timedelta(days=spec["stable_after"]))}, etag)
            for checkpoint, held in spec["follow_ups"].items():
                due = {"6_weeks": end + timedelta(weeks=6), "3_months": add_months(end, 3),
                       "6_months": add_months(end, 6)}[checkpoint]
                await self._call("POST", f"{url}/follow-ups", {
                    "checkpoint": checkpoint, "held": held, "recorded_on": str(due),
                    **({} if held else {"breakdown_date": str(due - timedelta(days=10))})})

    # --- outcomes ----------------------------------------------------------------------------------------
    async def measures(self, spec: dict, placement: dict, arrival: date) -> None:
        """The SDQ totals of SDQ_TOTALS at the points already passed, with the other groups beside them."""
        totals = SDQ_TOTALS.get(spec["ref"], ())
        if not totals:
            return
        pid = placement["id"]

        async def known():
            r = await self.client.get(f"/v1/outcomes/placements/{pid}", headers=self.hub)
            return r.status_code == 200
        await _until(known)
        day_90 = arrival + timedelta(days=89)
        points = [("baseline", arrival + timedelta(days=4)), ("day_28", arrival + timedelta(days=27)),
                  ("day_90", day_90), ("six_monthly_1", add_months(day_90, 6))]
        informant = "self" if spec["age"] >= 16 else "parent"
        for n, ((timepoint, taken), total) in enumerate(zip(points, totals)):
            if taken > self.today:
                break
            body: dict = {"timepoint": timepoint, "recorded_on": str(taken),
                          "sdq": {"informant": informant, "items": sdq_items(total)}}
            if not (spec["ref"] in ONLY_SDQ_AT_LAST and n == len(totals) - 1):
                body.update(education={"attendance_percent": 70 + 5 * n, "provision_type": "mainstream",
                                       "exclusions": 0},
                            health={"gp_registered": True, "dentist_registered": n > 0},
                            stability={"missing_episodes": max(3 - n, 0), "placement_moves": 0})
            await self._call("POST", f"/v1/outcomes/placements/{pid}/measures", body,
                             key=f"region-measures-{spec['ref']}-{timepoint}")

    # --- money -------------------------------------------------------------------------------------------
    async def charges(self) -> None:
        first = start_of_story(self.today).replace(day=1)
        contracts = items((await self.client.get("/v1/contracts", headers=self.hub)).json())
        if not any(c["la_code"] == LEICESTER for c in contracts):
            contract = await self._call("POST", "/v1/contracts", {
                "la_code": LEICESTER, "name": "Leicester City spot contract (demo)", "form": "spot",
                "start_date": str(first)})
            await self._call("POST", f"/v1/contracts/{contract['id']}/fee-schedules", {
                "effective_from": str(first), "phase_1_weekly": _money(PHASE_1_WEEKLY),
                "phase_2_weekly": _money(PHASE_2_WEEKLY), "outreach_weekly": _money(OUTREACH_WEEKLY),
                "outreach_fixed": _money(OUTREACH_FIXED)})
        if not any(c["la_code"] == LEICESTERSHIRE and c.get("outreach_retainer") for c in contracts):
            start = add_months(self.today.replace(day=1), -4)
            contract = await self._call("POST", "/v1/contracts", {
                "la_code": LEICESTERSHIRE, "name": "Leicestershire outreach retainer (demo)", "form": "spot",
                "start_date": str(start), "outreach_retainer": {"interventions": RETAINER_INTERVENTIONS,
                                                                "yearly_fee": _money(RETAINER_YEARLY)}})
            await self._call("POST", f"/v1/contracts/{contract['id']}/fee-schedules", {  # beyond the retainer
                "effective_from": str(start), "outreach_weekly": _money(OUTREACH_WEEKLY),
                "outreach_fixed": _money(OUTREACH_FIXED)})
        for spec in HOMES:
            if spec["state"] == "onboarding":
                continue
            home = self.homes[spec["key"]]
            month = add_months(self.today.replace(day=1), -11)
            while month <= self.today.replace(day=1):
                await self._call("PUT", f"/v1/viability/homes/{home['id']}/costs/{month:%Y-%m}",
                                 {"amount": _money(HOME_MONTHLY_COST[spec["registered_places"]]),
                                  "category": "total"})
                month = add_months(month, 1)

    async def close_periods(self) -> list[str]:
        """Closes calendar months in order up to the one two months ago (last month stays open)."""
        closed = {p["period_start"] for p in items((await self.client.get("/v1/fee-periods", headers=self.hub)).json())}
        month, last, out = start_of_story(self.today).replace(day=1), add_months(self.today.replace(day=1), -2), []
        while month <= last:
            if str(month) not in closed:
                await self._call("POST", "/v1/fee-periods/close", {"period_start": str(month)})
                out.append(str(month))
            month = add_months(month, 1)
        return out

    async def run(self) -> dict:
        if await self.seeded():
            return {}
        for spec in HOMES:
            if spec["state"] != "onboarding":
                self.homes[spec["key"]] = await self.make_home(spec)
        await self.charges()
        # the oldest arrival first in each home, so one child at a time is in Phase 1
        placed = []
        for spec in sorted(CHILDREN, key=lambda c: -c["days"]):
            placed.append((spec, *await self.child(spec)))
        for spec, placement, arrival in placed:
            await self.measures(spec, placement, arrival)
        suspended = next(h for h in HOMES if h["state"] == "suspended")
        await self._call("POST", f"/v1/homes/{self.homes[suspended['key']]['id']}/suspend",
                         {"reason": "Registration suspended pending an Ofsted monitoring visit"})
        for spec in WAITING:
            await self.refer(spec["la"], spec["ref"], spec["sex"], spec["age"], spec["postcode"], spec["urgency"],
                             self.today + timedelta(days=spec["start"]), spec["needs"], spec["risks"], spec["legal"])
        teams = await self.outreach()
        await self.outreach_history(teams)   # before the closes, which invoice its fixed fees
        closed = await self.close_periods()
        marker = next(h for h in HOMES if h["urn"] == MARKER_URN)
        self.homes[marker["key"]] = await self.make_home(marker)
        return {"homes": {k: h["id"] for k, h in self.homes.items()}, "closed_periods": closed, "teams": teams}
