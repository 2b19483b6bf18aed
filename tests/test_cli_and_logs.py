"""The itp command's client creation, and JSON logs that carry request and correlation ids."""
from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys

import pytest

from libs.common.observability import JsonFormatter
from services.gateway.domain.secrets import verify_secret

from .support.referrals import REFERRAL, idempotent


def _itp(tmp_path, *args):
    env = {**os.environ, "ITP_DATA_DIR": str(tmp_path), "ITP_LOG_LEVEL": "WARNING"}
    return subprocess.run([sys.executable, "-m", "itp.cli", *args], env=env, capture_output=True, text=True,
                          timeout=60)


def test_itp_client_create_prints_an_id_and_a_secret_that_is_stored_only_as_a_hash(tmp_path):
    assert _itp(tmp_path, "migrate", "gateway").returncode == 0
    done = _itp(tmp_path, "client", "create", "--name", "Leicestershire CMS", "--la", "E10000018",
                "--scope", "referrals:write", "--scope", "referrals:read")
    assert done.returncode == 0, done.stderr
    client = json.loads(done.stdout)
    assert client["la_code"] == "E10000018" and client["scopes"] == ["referrals:write", "referrals:read"]
    import sqlite3
    row = sqlite3.connect(tmp_path / "gateway.db").execute(
        "select secret_hash, la_code from api_clients where client_id=?", (client["client_id"],)).fetchone()
    assert client["client_secret"] not in row[0]
    assert verify_secret(client["client_secret"], row[0]) and row[1] == "E10000018"

    hub = json.loads(_itp(tmp_path, "client", "create", "--name", "Finance", "--role", "finance",
                          "--scope", "invoices:read").stdout)
    assert hub["role"] == "finance" and hub["la_code"] is None
    bad = _itp(tmp_path, "client", "create", "--name", "x", "--la", "Leicestershire")
    assert bad.returncode == 2 and "not an LA code" in bad.stderr


@pytest.mark.parametrize("system_overrides", ["inprocess-sqlite"], indirect=True)
async def test_every_log_line_is_json_with_the_request_id_and_correlation_id(sut):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        r = await sut.client.post("/v1/referrals", json=REFERRAL,
                                  headers=idempotent({**sut.council(), "X-Request-ID": "req-42", "X-Correlation-ID": "corr-7"}))
        assert r.status_code == 201
        assert r.headers["x-correlation-id"] == "corr-7"
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [l for l in lines if l["msg"] == "request" and l.get("path") == "/v1/referrals"]
    assert {l["service"] for l in access} == {"gateway", "referral"}
    assert all(l["request_id"] == "req-42" and l["correlation_id"] == "corr-7" for l in access)


async def test_a_logged_database_error_shows_its_type_statement_and_frames_but_no_data():
    """Engines hide bound parameters, and the formatter prints no exception message (a driver's message may
    quote a row's values): the line keeps what an engineer needs (type, SQL, frames, request id)."""
    from sqlalchemy import text

    from libs.common.db import make_engine
    from libs.common.observability import request_id_var

    secret = "LCC-SECRET-CHILD-REF-0417"
    engine = make_engine("sqlite+aiosqlite://")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("itp.test.dberror")
    log.addHandler(handler)
    token = request_id_var.set("req-db-1")
    try:
        async with engine.connect() as conn:
            try:
                await conn.execute(text("SELECT no_such_column FROM no_such_table WHERE ref = :ref"), {"ref": secret})
            except Exception as exc:  # noqa: BLE001
                assert secret not in str(exc)  # hide_parameters: the exception itself carries no data
                log.exception("query failed")
        try:
            raise ValueError(f"a message quoting {secret}")
        except ValueError:
            log.error("validation failed", exc_info=True)
    finally:
        request_id_var.reset(token)
        log.removeHandler(handler)
        await engine.dispose()
    assert secret not in stream.getvalue()
    db_line, value_line = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert db_line["request_id"] == "req-db-1" and db_line["exc_type"] == "sqlalchemy.exc.OperationalError"
    assert "SELECT no_such_column FROM no_such_table WHERE ref = ?" in db_line["exc"]
    assert "test_a_logged_database_error_shows" in db_line["exc"]  # the frames are there
    assert value_line["exc_type"] == "ValueError" and "message withheld" in value_line["exc"]
