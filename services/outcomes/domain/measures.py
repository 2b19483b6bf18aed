"""Education, health and stability measures: what each field is, and which direction counts as better. Pure.
Only codes, numbers and booleans: no free text anywhere (nothing that could carry a name)."""
from __future__ import annotations

from typing import Mapping

from .errors import OutcomeError

PROVISION_TYPES = ("mainstream", "special_school", "alternative_provision", "pupil_referral_unit", "home_tuition",
                   "college", "apprenticeship", "employment", "none")
EHCP_STATUS = ("none", "requested", "assessment", "in_place")

# field -> (kind, better): kind "percent" | "count" | "bool" | code tuple; better "higher" | "lower" | "true" |
# None (a code: reported, not scored)
FIELDS: dict[str, dict[str, tuple[object, str | None]]] = {
    "education": {"attendance_percent": ("percent", "higher"), "provision_type": (PROVISION_TYPES, None),
                  "ehcp_status": (EHCP_STATUS, None), "exclusions": ("count", "lower")},
    "health": {"gp_registered": ("bool", "true"), "dentist_registered": ("bool", "true"),
               "camhs_engaged": ("bool", "true"), "health_assessment_up_to_date": ("bool", "true")},
    "stability": {"missing_episodes": ("count", "lower"), "police_callouts": ("count", "lower"),
                  "incidents": ("count", "lower"), "placement_moves": ("count", "lower")},
}
# SDQ: total difficulties and each difficulty scale are better lower; prosocial is better higher
SDQ_BETTER = {"sdq_total": "lower", "sdq_emotional": "lower", "sdq_conduct": "lower", "sdq_hyperactivity": "lower",
              "sdq_peer": "lower", "sdq_prosocial": "higher", "sdq_externalising": "lower",
              "sdq_internalising": "lower"}


def parse_group(group: str, raw: Mapping | None, field: str) -> dict | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise OutcomeError(field, "object", "an object of measures")
    spec = FIELDS[group]
    out = {}
    for key, value in raw.items():
        if key not in spec:
            raise OutcomeError(f"{field}.{key}", "unknown_measure", f"{group} has {', '.join(spec)}")
        kind, _ = spec[key]
        f = f"{field}.{key}"
        if value is None:
            out[key] = None
        elif kind == "percent":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
                raise OutcomeError(f, "percent", "a percentage from 0 to 100")
            out[key] = round(float(value), 1)
        elif kind == "count":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10000:
                raise OutcomeError(f, "count", "a whole number from 0")
            out[key] = value
        elif kind == "bool":
            if not isinstance(value, bool):
                raise OutcomeError(f, "boolean", "true or false")
            out[key] = value
        else:
            if value not in kind:  # type: ignore[operator]
                raise OutcomeError(f, "code", f"one of {', '.join(kind)}")  # type: ignore[arg-type]
            out[key] = value
    if not out:
        raise OutcomeError(field, "measures_required", f"at least one {group} measure")
    return out


def flatten(group: str, values: Mapping) -> dict[str, int | float | bool | str | None]:
    return {f"{group}.{k}": v for k, v in values.items()}


def better(measure: str) -> str | None:
    if measure in SDQ_BETTER:
        return SDQ_BETTER[measure]
    group, _, name = measure.partition(".")
    return FIELDS.get(group, {}).get(name, (None, None))[1]


def change(measure: str, baseline, latest) -> dict:
    """The change from baseline and whether it is better, worse or the same (None when it cannot be said)."""
    direction = better(measure)
    if baseline is None or latest is None or direction is None:
        return {"change": None, "reading": None}
    if direction == "true":
        b, l = bool(baseline), bool(latest)
        return {"change": None, "reading": "same" if b == l else "better" if l else "worse"}
    delta = latest - baseline
    if delta == 0:
        return {"change": delta, "reading": "same"}
    improved = delta < 0 if direction == "lower" else delta > 0
    return {"change": round(delta, 1) if isinstance(delta, float) else delta,
            "reading": "better" if improved else "worse"}
