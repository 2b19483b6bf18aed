"""Run the DfE's SSDA903 validation rules (csc-validator-be-903, import name lac_validator) over episode and
header rows. Runs INSIDE .venv-903 (`make validator-903`), never the product's venv: it pins old pandas and
numpy. Imports nothing of the project.

stdin: {"collection_year": "2026-27", "la": "E10000018", "episodes": [{CHILD, DECOM, ...}], "header": [...]}
(dates DD/MM/YYYY, unknowns empty). stdout: {"ruleset", "errors": {code: {"message", "rows": {table: [i]}}},
"failed": [codes that raised], "skipped": [codes without their tables], "ran": n}."""
from __future__ import annotations

import importlib
import json
import logging
import sys

logging.disable(logging.CRITICAL)


def main() -> None:
    request = json.load(sys.stdin)
    out, sys.stdout = sys.stdout, sys.stderr  # the package prints; only the answer goes to stdout
    import pandas as pd
    from lac_validator.config import column_names
    from lac_validator.datastore import copy_datastore, create_datastore

    first, last = request["collection_year"].split("-")
    ruleset = f"lac{first}_{last}"
    registry = importlib.import_module(f"lac_validator.rules.{ruleset}").registry
    dfs = {}
    for table, rows in (("Episodes", request["episodes"]), ("Header", request.get("header") or [])):
        columns = column_names[table]
        frame = pd.DataFrame([{c: (r.get(c) if r.get(c) not in ("", None) else None) for c in columns}
                              for r in rows], columns=columns, dtype=object)
        dfs[table] = frame
    store = create_datastore(dfs, {"collectionYear": f"{int(first) + 1}", "localAuthority": request["la"],
                                   "file_format": "csv"})
    errors, failed, skipped = {}, [], []
    for code, rule in registry.items():
        try:
            result = rule.func(copy_datastore(store))
        except Exception as exc:  # a rule that cannot run on these tables
            failed.append({"code": str(code), "error": f"{type(exc).__name__}: {exc}"[:300]})
            continue
        if result == {}:
            skipped.append(str(code))
            continue
        rows = {t: [int(i) for i in v if pd.notna(i)] for t, v in result.items() if len(v)}
        if rows:
            errors[str(code)] = {"message": rule.message, "rows": rows}
    json.dump({"ruleset": ruleset, "errors": errors, "failed": failed, "skipped": skipped, "ran": len(registry)},
              out)


if __name__ == "__main__":
    main()
