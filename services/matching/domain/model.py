"""The facts the impact risk assessment reasons over: the child, the homes, their residents.

Plain frozen dataclasses, built by the persistence layer from the read models and by the tests
and the benchmark directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

RATINGS = ("low", "medium", "high", "unacceptable")
RATING_ORDER = {r: i for i, r in enumerate(RATINGS)}
MATCHABLE_OFSTED = ("outstanding", "good", "requires_improvement", None)
BINDING_COMPANIONS = ("solo", "older_children_only", "younger_children_only")


@dataclass(frozen=True)
class Requirements:
    """What the placement must allow (the Placements Data Standard's MUST fields and hard facts, in the referral's
    codes): None is "not said"."""

    living_companions: str | None = None       # solo | with_other_children | older_children_only | ...
    pets: str | None = None                    # must_live_with_pets | can_live_with_pets | no_pets | not_known
    deprivation_of_liberty: bool | None = None
    sibling_count: int | None = None
    communication_needs: str | None = None     # yes | no | not_specified
    communication_requirements: tuple[str, ...] = ()
    home_adaptation: bool | None = None
    cultural_needs: str | None = None
    additional_support: str | None = None
    residential_care_suitability: str | None = None

    @classmethod
    def of(cls, data: dict | None) -> "Requirements | None":
        if not data:
            return None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["communication_requirements"] = tuple(known.get("communication_requirements") or ())
        return cls(**known)


@dataclass(frozen=True)
class Child:
    """The referred child (or a resident): never a name, only what the assessment needs."""

    ref: str                                   # referral id (the child record's key)
    age: int
    sex: str
    codes: tuple[tuple[str, str], ...] = ()    # (code, severity) for needs and risks together
    outward_code: str | None = None
    requirements: Requirements | None = None

    @cached_property
    def code_set(self) -> frozenset[str]:
        return frozenset(c for c, _ in self.codes)

    @cached_property
    def sorted_codes(self) -> tuple[str, ...]:
        return tuple(sorted(self.code_set))

    @cached_property
    def _severities(self) -> dict[str, str]:
        order = {"low": 0, "medium": 1, "high": 2}
        out: dict[str, str] = {}
        for c, s in self.codes:
            if c not in out or order[s] > order[out[c]]:
                out[c] = s
        return out

    def severity(self, code: str) -> str:
        return self._severities.get(code, "medium")


@dataclass(frozen=True)
class Resident:
    placement_id: str
    child: Child
    phase: str = "phase_1"                     # phase_1 | phase_2


@dataclass(frozen=True)
class Home:
    id: str
    name: str = ""                             # shown beside the id in the hub's answers
    live: bool = True
    registration_status: str = "registered"    # registered | suspended | cancelled
    ofsted_rating: str | None = "good"         # outstanding | good | requires_improvement | inadequate | None
    age_min: int = 8
    age_max: int = 17
    sexes: frozenset[str] = frozenset({"female", "male"})
    categories: frozenset[str] = frozenset({"emotional_behavioural_difficulties"})
    specialisms: frozenset[str] = frozenset()
    outward_code: str | None = None
    pathway_bed_free: bool = True
    phase_1_limit: int = 1
    residents: tuple[Resident, ...] = field(default_factory=tuple)
    # issue 12: what the home offers against a child's placement requirements
    registered_places: int = 3
    pets: bool = False                         # animals live in the home
    accepts_deprivation_of_liberty: bool = False
    communication_support: frozenset[str] = frozenset()   # esol | bsl | makaton | other
    adapted: bool = False                      # adapted for a disabled child (the standard's homeAdaptation)

    @cached_property
    def in_phase_1(self) -> int:
        return sum(1 for r in self.residents if r.phase == "phase_1")

    @cached_property
    def companion_rules(self) -> tuple[Resident, ...]:
        """The residents whose living companions bind a newcomer (must live alone, only older or younger children)."""
        return tuple(r for r in self.residents if r.child.requirements is not None
                     and r.child.requirements.living_companions in BINDING_COMPANIONS)

    def with_resident(self, resident: Resident) -> "Home":
        return _replace(self, residents=self.residents + (resident,))

    def without_resident(self, placement_id: str) -> "Home":
        return _replace(self, residents=tuple(r for r in self.residents if r.placement_id != placement_id))


def _replace(obj, **changes):
    from dataclasses import replace
    return replace(obj, **changes)
