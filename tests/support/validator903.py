"""The DfE's SSDA903 validator as a judge: its own venv (.venv-903, `make validator-903`), run as a subprocess
over episode rows (tests/support/run_903_validator.py). The product never imports it (it pins old pandas)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv-903" / "bin" / "python"
STAMP = ROOT / ".venv-903" / ".installed"
RUNNER = Path(__file__).resolve().parent / "run_903_validator.py"

# Rules that cannot apply to one provider's rows, each with why (the README lists them too). Everything else
# must report no error.
NOT_APPLICABLE: dict[str, str] = {
    "103": "ethnicity is in the council's header record, which the provider does not hold",
    "442": "the Unique Pupil Number is in the council's header record, which the provider does not hold",
    "393": "the mother field is in the council's header record, which the provider does not hold",
    "392b": "HOME_POST is the council's: the provider keeps only the outward code of the child's home",
}
# Rules that apply to some rows only with the council's whole return; the test checks they flag nothing else.
WHOLE_RETURN: dict[str, str] = {
    "357": "a first episode here with RNE P or B continues the council's previous placement, in its return",
    "388": "an X1 ending here continues in the child's next placement (another provider's), in the council's return",
}
# Rules this version of the package cannot run on a return without its optional tables (they raise).
CANNOT_RUN: dict[str, str] = {
    "231": "reads a UASC_STATUS column no table of the return has (package 0.1.17)",
    "233": "reads a DATE_EPISODE_CEASED column no table of the return has (package 0.1.17)",
}


def validator_python() -> Path:
    """The validator's interpreter; builds it once (make validator-903) when missing. Fails under
    ITP_REQUIRE_INTEGRATION=1 when it cannot be built; skips otherwise."""
    if not STAMP.exists():
        built = subprocess.run(["make", "-s", "validator-903"], cwd=ROOT, capture_output=True, text=True,
                               timeout=900)
        if built.returncode != 0 or not STAMP.exists():
            from . import unavailable
            unavailable("The DfE SSDA903 validator", f"cannot build .venv-903 (make validator-903): {built.stderr[-500:]}")
    return PYTHON


def collection_year(day: date) -> str:
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}-{str(first + 1)[2:]}"


def run(episodes: list[dict], header: list[dict], *, la: str, year: str) -> dict:
    """The validator's answer: {ruleset, errors: {code: {message, rows}}, failed, skipped, ran}."""
    python = validator_python()
    request = {"collection_year": year, "la": la, "episodes": episodes, "header": header}
    done = subprocess.run([str(python), str(RUNNER)], input=json.dumps(request), capture_output=True, text=True,
                          timeout=600, env={**os.environ, "QLACREF_PC_INSECURE": "True"})
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


__all__ = ["NOT_APPLICABLE", "WHOLE_RETURN", "CANNOT_RUN", "collection_year", "run", "validator_python", "sys"]
