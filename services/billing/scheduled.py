"""Billing's periodic jobs, each safe on several replicas.

- purge_idempotency_keys: Idempotency-Keys older than the retention window (ITP_IDEMPOTENCY_RETENTION_HOURS,
  24 h by default) are forgotten.
Fee periods are closed by finance, never by a job."""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

from libs.common.http import purge_idempotency_keys


async def purge_old_idempotency_keys(runtime, now: datetime | None = None) -> int:
    hours = int(os.environ.get("ITP_IDEMPOTENCY_RETENTION_HOURS", "24"))
    return await purge_idempotency_keys(runtime, timedelta(hours=hours), now or datetime.now(timezone.utc))
