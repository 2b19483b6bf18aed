"""Records that outlive the system (docs/decisions/0006-retention.md): a child's case record is kept 75 years from
the date of birth, so no API route deletes one and no migration drops or rewrites child data without a copy."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = sorted(ROOT.glob("services/*/migrations/versions/*.py"))

# A child's record, wherever it lives: these path segments name one (or a part of one).
CHILD_RECORD_SEGMENTS = {"referrals", "placements", "plans", "reviews", "invoices", "outcomes", "measures",
                         "admissions", "tasks", "charges", "residents", "impact-risk-assessments", "children"}
# DELETE routes that exist and touch no child's record, each with the reason.
DELETE_ALLOWED = {
    "/v1/homes/{home_id}": "withdraws a home still onboarding (no child has lived there; 409 once live)",
    "/v1/webhooks/{endpoint_id}": "a council's webhook endpoint, not a child's record",
}

# Tables (and columns) that hold no child's data: migrations may drop them.
NON_CHILD_TABLES = {"idempotency_keys", "idempotent_requests", "alembic_version", "outbox", "inbox",
                    "processed_events", "dead_letters", "matching_state"}
NON_CHILD_COLUMNS = {
    # matching 0003: the admission's idempotency bookkeeping moved to the shared idempotent_requests table
    ("admissions", "idempotency_key"), ("admissions", "request_hash"),
}
_DESTRUCTIVE_SQL = re.compile(r"\b(DROP\s+(TABLE|COLUMN)|DELETE\s+FROM|TRUNCATE)\b", re.I)
_COPY_SQL = re.compile(r"\b(INSERT\s+INTO\s+\w+[^;]*\bSELECT\b|CREATE\s+TABLE\s+\w+\s+AS\s+SELECT)\b", re.I | re.S)


@pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)
async def test_no_delete_route_in_the_merged_openapi_document_touches_a_childs_record(sut):
    doc = (await sut.client.get("/v1/openapi.json")).json()
    deletes = {path for path, item in doc["paths"].items() if "delete" in item}
    assert deletes, "the walk found the document's DELETE routes"
    for path in deletes:
        segments = {s for s in path.split("/") if s and not s.startswith("{")}
        touched = segments & CHILD_RECORD_SEGMENTS
        assert not touched, f"DELETE {path} would delete a child's record ({touched}); see 0006-retention.md"
        assert path in DELETE_ALLOWED, f"DELETE {path} is new: say why it deletes no child's record"
    assert set(DELETE_ALLOWED) <= deletes, "an allowed DELETE route has gone: update the allow-list"


class _Upgrade(ast.NodeVisitor):
    """What an upgrade() drops, and whether it copies anything first."""

    def __init__(self):
        self.dropped_tables: list[tuple[str, int]] = []
        self.dropped_columns: list[tuple[str, str, int]] = []
        self.destructive_sql: list[tuple[str, int]] = []
        self.copies: list[str] = []
        self._batch: dict[str, str] = {}  # `with op.batch_alter_table("t") as batch` -> batch: t

    @staticmethod
    def _const(node):
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    def visit_With(self, node):
        for item in node.items:
            call = item.context_expr
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "batch_alter_table" and isinstance(item.optional_vars, ast.Name)):
                self._batch[item.optional_vars.id] = self._const(call.args[0]) or "?"
        self.generic_visit(node)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Attribute):
            name, owner = node.func.attr, node.func.value
            args = [self._const(a) for a in node.args]
            if name == "drop_table":
                self.dropped_tables.append((args[0] or "?", node.lineno))
            elif name == "drop_column":
                if isinstance(owner, ast.Name) and owner.id in self._batch:
                    self.dropped_columns.append((self._batch[owner.id], args[0] or "?", node.lineno))
                else:
                    self.dropped_columns.append((args[0] or "?", args[1] if len(args) > 1 else "?", node.lineno))
            elif name == "execute":
                sql = " ".join(a for a in args if a) or ast.unparse(node)
                if _DESTRUCTIVE_SQL.search(sql):
                    self.destructive_sql.append((sql, node.lineno))
                if _COPY_SQL.search(sql):
                    self.copies.append(sql)
        self.generic_visit(node)


def _upgrade_of(path: Path) -> _Upgrade:
    tree = ast.parse(path.read_text())
    visitor = _Upgrade()
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name == "upgrade":  # downgrade() may drop what upgrade() made
            visitor.visit(fn)
    return visitor


@pytest.mark.parametrize("migration", MIGRATIONS, ids=lambda p: f"{p.parts[-4]}/{p.name}")
def test_no_migration_drops_or_rewrites_child_data_without_a_copy(migration):
    up = _upgrade_of(migration)
    copied = " ".join(up.copies)

    def kept(table: str) -> bool:  # the upgrade copied the table's rows somewhere first
        return bool(re.search(rf"\bFROM\s+\"?{re.escape(table)}\b", copied, re.I))
    for table, line in up.dropped_tables:
        assert table in NON_CHILD_TABLES or kept(table), \
            f"{migration.name}:{line} drops table {table} without copying it (0006-retention.md)"
    for table, column, line in up.dropped_columns:
        assert table in NON_CHILD_TABLES or (table, column) in NON_CHILD_COLUMNS or kept(table), \
            f"{migration.name}:{line} drops {table}.{column} without copying it (0006-retention.md)"
    for sql, line in up.destructive_sql:
        assert any(t in sql for t in NON_CHILD_TABLES), \
            f"{migration.name}:{line} deletes or drops with SQL: {sql[:80]} (0006-retention.md)"


def test_the_static_check_catches_a_drop_of_child_data(tmp_path):
    bad = tmp_path / "0099_bad.py"
    bad.write_text("from alembic import op\n\ndef upgrade():\n    op.drop_table('referrals')\n"
                   "    with op.batch_alter_table('placements') as b:\n        b.drop_column('date_of_birth')\n"
                   "    op.execute('DELETE FROM invoices')\n\ndef downgrade():\n    op.drop_table('kept')\n")
    up = _upgrade_of(bad)
    assert [t for t, _ in up.dropped_tables] == ["referrals"]
    assert [(t, c) for t, c, _ in up.dropped_columns] == [("placements", "date_of_birth")]
    assert len(up.destructive_sql) == 1
    copy = tmp_path / "0100_copy.py"
    copy.write_text("from alembic import op\n\ndef upgrade():\n"
                    "    op.execute('INSERT INTO referrals_v2 (id) SELECT id FROM referrals')\n"
                    "    op.drop_table('referrals')\n")
    assert _upgrade_of(copy).copies
