"""Outreach teams ranked for an outreach referral (issue 16): capacity and reach instead of beds. Pure.

Where a bed referral ranks homes (impact_risk.py), an outreach referral ranks the hub's outreach teams. Hard
limits first, in this order, and the first that fails names the reason: the team is suspended, the team's
caseload is at its limit, the child lives outside the team's travel reach. Then each remaining team is scored
term by term, the same shape of explained answer as the impact risk assessment (terms of points, weight,
weighted and reason; lower is better): capacity (how full the caseload is), distance (how far into its reach the
child lives) and specialism (the team's specialisms serving the child's needs, risks and what is at risk). The
order is total (score, then team id), so the same inputs give the same answer byte for byte.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Iterable

from libs.common.geography import distance_km

RULES_VERSION = "outreach-teams/1"
KM_PER_MILE = 1.609344
TEAM_LIMITS = ("team_suspended", "caseload_full", "outside_reach")
WEIGHTS = {"capacity": 1.0, "distance": 1.0, "specialism": 1.0}
CAPACITY_POINTS = 10.0      # a full caseload (never offered) would score this; an empty one 0
DISTANCE_POINTS = 10.0      # at the edge of the team's reach; the team's base 0
UNKNOWN_DISTANCE_POINTS = 5.0
SPECIALISM_POINTS = -4.0    # for each of the child's codes a specialism serves
SPECIALISM_CAP = -12.0
DECLINE_FOR_LIMIT = {"team_suspended": "other", "caseload_full": "no_team_capacity", "outside_reach": "outside_reach"}

# What each outreach specialism (libs/common/vocabulary.OUTREACH_SPECIALISMS) serves: the child's needs and risks
# (NEEDS_AND_RISKS codes) and what is at risk (AT_RISK codes).
SERVES: dict[str, frozenset[str]] = {k: frozenset(v) for k, v in {
    "child_sexual_exploitation": ("sexual_exploitation_risk", "missing_episodes", "sexualised_behaviour"),
    "child_criminal_exploitation": ("criminal_exploitation_risk", "criminal_risk_to_others", "exploits_others",
                                    "missing_episodes", "youth_justice", "substance_misuse"),
    "neurodiversity": ("neurodiversity", "learning_disability", "ehcp"),
    "self_harm": ("self_harm", "suicidal_ideation"),
    "mental_health": ("mental_health", "camhs_involvement", "suicidal_ideation", "hospital_discharge"),
    "harmful_sexual_behaviour": ("harmful_sexual_behaviour", "sexualised_behaviour"),
    "substance_misuse": ("substance_misuse",),
    "family_work": ("attachment_difficulties", "trauma", "family_breakdown", "carer_resignation",
                    "placement_breakdown", "step_down_move"),
    "education_engagement": ("education_not_in_school", "ehcp", "school_place"),
    "youth_justice": ("youth_justice", "violence_to_others", "violence_to_staff", "custody"),
}.items()}


@dataclass(frozen=True)
class Team:
    id: str
    name: str = ""
    region: str = ""
    outward_code: str | None = None      # the team's home base (postcode district)
    practitioners: int = 1
    caseload_limit: int = 6
    caseload: int = 0                    # accepted interventions not yet closed
    specialisms: frozenset[str] = frozenset()
    reach_miles: int = 25
    active: bool = True

    @property
    def capacity_left(self) -> int:
        return max(0, self.caseload_limit - self.caseload)


@dataclass(frozen=True)
class OutreachChild:
    """The child referred for outreach: where the child lives now, and codes (never a name)."""
    ref: str
    outward_code: str | None = None
    codes: frozenset[str] = frozenset()  # needs, risks and what is at risk
    current_setting: str | None = None


def miles(km: float | None) -> float | None:
    return None if km is None else round(km / KM_PER_MILE, 1)


def failed_limit(child: OutreachChild, team: Team, km: float | None = None) -> str | None:
    """The first hard limit the team fails for this child, or None. A child whose location is unknown is not
    excluded for reach (the hub sees the distance as unknown)."""
    if not team.active:
        return "team_suspended"
    if team.caseload >= team.caseload_limit:
        return "caseload_full"
    km = distance_km(child.outward_code, team.outward_code) if km is None else km
    if km is not None and km / KM_PER_MILE > team.reach_miles:
        return "outside_reach"
    return None


def explain_limit(limit: str, child: OutreachChild, team: Team) -> dict:
    if limit == "team_suspended":
        return {"limit": limit, "detail": "the team is suspended: it takes no new referrals"}
    if limit == "caseload_full":
        return {"limit": limit, "detail": f"the team's caseload is at its limit: {team.caseload} of "
                                          f"{team.caseload_limit} open interventions"}
    if limit == "outside_reach":
        away = miles(distance_km(child.outward_code, team.outward_code))
        return {"limit": limit, "detail": f"the child lives {away} miles from the team's base "
                                          f"({child.outward_code} to {team.outward_code}); its reach is "
                                          f"{team.reach_miles} miles"}
    return {"limit": limit, "detail": limit}


def served(child: OutreachChild, team: Team) -> tuple[tuple[str, str], ...]:
    """(specialism, code) for each of the child's codes a team specialism serves, sorted."""
    return tuple(sorted((s, c) for s in team.specialisms for c in SERVES.get(s, ()) if c in child.codes))


@dataclass(frozen=True)
class TeamOption:
    child: OutreachChild
    team: Team
    distance_km: float | None
    points: tuple[float, float, float]   # capacity, distance, specialism
    score: float

    @cached_property
    def terms(self) -> tuple[dict, ...]:
        t, c = self.team, self.child
        capacity = (f"{t.caseload} of {t.caseload_limit} caseload places taken ({t.capacity_left} left, "
                    f"{t.practitioners} practitioner(s))")
        if self.distance_km is None:
            distance = (f"distance unknown ({c.outward_code or 'no location given'} to "
                        f"{t.outward_code or 'unknown'}): neutral score")
        else:
            distance = (f"{miles(self.distance_km)} miles from {c.outward_code} to the team's base {t.outward_code} "
                        f"(reach {t.reach_miles} miles)")
        fit = served(c, t)
        specialism = ("specialism " + ", ".join(f"{s} serves {code}" for s, code in fit) if fit
                      else "no specialism of the team serves the child's needs, risks or what is at risk")
        names = ("capacity", "distance", "specialism")
        return tuple({"term": n, "points": round(p, 2), "weight": WEIGHTS[n], "weighted": round(p * WEIGHTS[n], 2),
                      "reason": r} for n, p, r in zip(names, self.points, (capacity, distance, specialism)))

    @property
    def sort_key(self) -> tuple:
        return (self.score, self.team.id)


def score_team(child: OutreachChild, team: Team, km: float | None = None) -> TeamOption:
    capacity = CAPACITY_POINTS * team.caseload / team.caseload_limit if team.caseload_limit else CAPACITY_POINTS
    if km is None:
        distance = UNKNOWN_DISTANCE_POINTS
    else:
        distance = min(DISTANCE_POINTS, DISTANCE_POINTS * (km / KM_PER_MILE) / max(team.reach_miles, 1))
    fit = {code for _, code in served(child, team)}
    specialism = max(SPECIALISM_CAP, SPECIALISM_POINTS * len(fit))
    points = (capacity, distance, specialism)
    score = round(sum(round(round(p, 2) * WEIGHTS[n], 2) for p, n in zip(points, WEIGHTS)), 2)
    return TeamOption(child=child, team=team, distance_km=km, points=points, score=score)


@dataclass(frozen=True)
class TeamRanking:
    child: OutreachChild
    teams_considered: int
    excluded: dict[str, int]
    excluded_teams: tuple[tuple[Team, str], ...]
    ranked: tuple[TeamOption, ...]

    def to_dict(self, *, limit: int | None = None) -> dict:
        options = self.ranked if limit is None else self.ranked[:limit]
        return {
            "kind": "outreach",
            "referral_id": self.child.ref,
            "rules_version": RULES_VERSION,
            "weights": dict(sorted(WEIGHTS.items())),
            "score_direction": "lower_is_better",
            "score_range": {"min": round(SPECIALISM_CAP * WEIGHTS["specialism"], 2),
                            "max": round(CAPACITY_POINTS * WEIGHTS["capacity"] + DISTANCE_POINTS * WEIGHTS["distance"],
                                         2)},
            "score_explained": (
                "An option's score is the sum of its terms' weighted points (terms[].weighted): capacity adds up to "
                f"{CAPACITY_POINTS:g} as the team's caseload fills, distance up to {DISTANCE_POINTS:g} at the edge "
                f"of the team's reach ({UNKNOWN_DISTANCE_POINTS:g} when the child's location is unknown), and each "
                f"of the child's needs, risks or at-risk codes a team specialism serves subtracts "
                f"{-SPECIALISM_POINTS:g} (at most {-SPECIALISM_CAP:g}). Lower is better; options sort by score, "
                "then team id. A team at its caseload limit, suspended, or whose reach does not include where the "
                "child lives is never offered (excluded, with the reason)."),
            "teams_considered": self.teams_considered,
            "teams_ranked": len(self.ranked),
            "excluded": dict(self.excluded),
            "exclusions": [{"team_id": t.id, "team_name": t.name, **explain_limit(lim, self.child, t)}
                           for t, lim in self.excluded_teams],
            "options": [option_dict(i + 1, o) for i, o in enumerate(options)],
        }


def option_dict(rank: int, o: TeamOption) -> dict:
    t = o.team
    return {"rank": rank, "team_id": t.id, "team_name": t.name, "region": t.region, "score": o.score,
            "distance_km": o.distance_km, "distance_miles": miles(o.distance_km), "reach_miles": t.reach_miles,
            "caseload": t.caseload, "caseload_limit": t.caseload_limit, "capacity_left": t.capacity_left,
            "specialisms_serving": sorted({s for s, _ in served(o.child, t)}), "terms": list(o.terms)}


def rank_teams(child: OutreachChild, teams: Iterable[Team]) -> TeamRanking:
    """Hard limits first (counted, each excluded team explained), then every remaining team scored."""
    excluded = dict.fromkeys(TEAM_LIMITS, 0)
    out, options, considered = [], [], 0
    for team in teams:
        considered += 1
        km = distance_km(child.outward_code, team.outward_code)
        limit = failed_limit(child, team, km)
        if limit is not None:
            excluded[limit] += 1
            out.append((team, limit))
            continue
        options.append(score_team(child, team, km))
    options.sort(key=lambda o: o.sort_key)
    return TeamRanking(child=child, teams_considered=considered, excluded=excluded,
                       excluded_teams=tuple(sorted(out, key=lambda e: e[0].id)), ranked=tuple(options))


def planned_weeks_for(basis: str, given: int | None, asked: int | None) -> int | None:
    """A fixed-fee intervention is six weeks unless the hub says otherwise; weekly outreach runs the weeks the
    hub gives, or those the council asked for; None when weekly has neither (the caller asks for them)."""
    if given is not None:
        return given
    if basis == "fixed_fee":
        return 6
    return asked
