"""The gateway's token signing keys, shared by every replica and worker through its database
(ITP_GATEWAY_STATE=database; the embedded mode keeps its key file, libs.common.auth.KeyStore).

- One key signs (the `signing_keys` row holding the one active slot, so two replicas starting at once cannot
  both create one: the loser reads the winner's). Each replica holds the key set in memory (a KeySet) and
  rereads it every ITP_GATEWAY_KEYS_REFRESH_SECONDS, and at once when a token names a kid it does not know
  (at most twice a second, TokenVerifier's rule): a token minted by any replica verifies on every other.
- A rotation (`itp keys rotate`) makes a new active key in one transaction; the old one loses its private half
  and keeps verifying until every token it can have signed has expired: `verify_until` = rotation time + the
  token lifetime + two refresh periods (a replica may sign with it until its next reread) + a minute of clock
  skew. Older keys past their `verify_until` are retired (no longer listed in the JWKS).
- On the first start against an empty table, the keys of an existing key file (ITP_KEYS_FILE) are adopted, so
  that switching a single gateway to shared state keeps its tokens valid.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import datetime, timedelta, timezone

from sqlalchemy.exc import IntegrityError

from libs.common.auth import KeySet, KeyStore, new_signing_key, public_jwk

from .repository import end_signing, insert_signing_key, retire_expired_keys, verifying_keys

log = logging.getLogger("itp.gateway.keys")


class SharedKeys:
    def __init__(self, db, *, token_ttl_seconds: int, refresh_seconds: float = 10.0, key_file=None,
                 now=lambda: datetime.now(timezone.utc), monotonic=time.monotonic):
        self.db = db
        self.keyset = KeySet()
        self.token_ttl_seconds = token_ttl_seconds
        self.refresh_seconds = refresh_seconds
        self.key_file = key_file
        self.now = now
        self.monotonic = monotonic
        self._loaded_at: float | None = None
        self._task: asyncio.Task | None = None

    @property
    def grace(self) -> timedelta:
        """How long a key keeps verifying after it stops signing."""
        return timedelta(seconds=self.token_ttl_seconds + 2 * self.refresh_seconds + 60)

    # the two calls mint_token and ForwardedTokens make of a key store
    def cached_signing_key(self):
        return self.keyset.cached_signing_key()

    def jwks(self) -> dict:
        return self.keyset.jwks()

    async def ensure(self) -> None:
        """An active key exists: this replica's, the key file's (first start), or another replica's."""
        now = self.now()
        async with self.db.session() as session:
            if any(k["status"] == "active" for k in await verifying_keys(session, now)):
                return
        adopted = KeyStore(self.key_file).keys() if self.key_file is not None and self.key_file.exists() else []
        active = next(((k["kid"], k["private_pem"]) for k in adopted if k["status"] == "active"), None)
        kid, pem = active or new_signing_key()
        try:
            async with self.db.session() as session, session.begin():
                await insert_signing_key(session, kid=kid, private_pem=pem, public_jwk=public_jwk(kid, pem), now=now,
                                         active=True)
                for k in adopted:
                    if k["status"] == "previous":
                        await insert_signing_key(session, kid=k["kid"], private_pem=None,
                                                 public_jwk=public_jwk(k["kid"], k["private_pem"]), now=now,
                                                 active=False, verify_until=now + self.grace)
            log.info("signing key created", extra={"kid": kid, "adopted_from_file": bool(active)})
        except IntegrityError:
            pass  # another replica made the active key first: it is read below

    async def refresh(self) -> None:
        async with self.db.session() as session:
            rows = await verifying_keys(session, self.now())
        active = next((r for r in rows if r["status"] == "active"), None)
        self.keyset.replace(signing=(active["kid"], active["private_pem"]) if active else None,
                            public=[r["public_jwk"] for r in sorted(rows, key=lambda r: r["created_at"], reverse=True)])
        self._loaded_at = self.monotonic()

    async def fresh(self) -> None:
        """Reread the key set if it is older than the refresh period (before signing a client's token)."""
        if self._loaded_at is None or self.monotonic() - self._loaded_at >= self.refresh_seconds:
            await self.refresh()

    async def jwks_source(self) -> dict:
        """What the gateway's TokenVerifier reads its keys from (it decides when to call). If the database
        cannot be read just then, the keys already held keep verifying (a database blip must not turn every
        request into an error); with none held yet, the failure is the caller's."""
        try:
            await self.refresh()
        except Exception as exc:
            if not self.keyset.jwks()["keys"]:
                raise
            log.warning("signing keys not reread; verifying with those held", extra={"error": type(exc).__name__})
        return self.keyset.jwks()

    async def rotate(self) -> dict:
        """A new signing key; the one before verifies its tokens until they have expired."""
        for attempt in range(3):
            now = self.now()
            kid, pem = new_signing_key()
            try:
                async with self.db.session() as session, session.begin():
                    previous = await end_signing(session, now=now, verify_until=now + self.grace)
                    await retire_expired_keys(session, now)
                    await insert_signing_key(session, kid=kid, private_pem=pem, public_jwk=public_jwk(kid, pem),
                                             now=now, active=True)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
                continue  # a rotation elsewhere committed between our update and insert: rotate again after it
        await self.refresh()
        log.info("signing key rotated", extra={"kid": kid, "previous": previous})
        return {"active": kid, "previous": previous, "verify_previous_until": (now + self.grace).isoformat()}

    async def start(self) -> None:
        await self.ensure()
        await self.refresh()
        self._task = asyncio.create_task(self._reread(), name="gateway signing keys")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _reread(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                await self.fresh()
            except Exception as exc:  # noqa: BLE001 - the last key set stays in use; retried next period
                log.warning("signing keys not reread", extra={"error": type(exc).__name__})
