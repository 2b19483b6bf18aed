"""The one write toolkit every service's routes use: preconditions (ETag / If-Match), Idempotency-Key,
and the unit of work a write runs in. Problems (RFC 9457) live in libs.common.errors.

    from libs.common.http import IfMatch, RequiredIfMatch, IdempotencyKey, Written, write, etag
"""
from .idempotency import (IDEMPOTENCY_TABLE, IdempotencyKey, RequiredIdempotencyKey, idempotency_table,
                          purge_idempotency_keys, request_fingerprint)
from .preconditions import IfMatch, Precondition, RequiredIfMatch, etag, parse_if_match, stale
from .write import Written, write

__all__ = ["IDEMPOTENCY_TABLE", "IdempotencyKey", "RequiredIdempotencyKey", "idempotency_table",
           "purge_idempotency_keys", "request_fingerprint", "IfMatch", "Precondition", "RequiredIfMatch", "etag",
           "parse_if_match", "stale", "Written", "write"]
