from libs.common.types import UtcDateTime
from sqlalchemy import JSON, Boolean, Column, Float, Integer, String, Table, Text, UniqueConstraint

from libs.common.restrictions import restricted_children_table
from libs.common.runtime import build_metadata

metadata = build_metadata()

# API clients: councils' case-management systems and the hub's dashboard users.
api_clients = Table(
    "api_clients", metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("la_code", String(16), nullable=True, index=True),
    Column("role", String(32), nullable=True),
    Column("scopes", JSON, nullable=False),
    Column("homes", JSON, nullable=True),  # a home_manager's homes (matching's home ids)
    Column("secret_hash", String(400), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

# The access log: one row per child record per request (who, which client, which record, what, when).
# Kept in the gateway's own schema; the hub's data-protection officer reads it (GET /v1/audit/access).
access_log = Table(
    "access_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("client_id", String(64), nullable=True, index=True),
    Column("la_code", String(16), nullable=True),
    Column("role", String(32), nullable=True),
    Column("child_record_id", String(64), nullable=False, index=True),
    Column("action", String(16), nullable=False),  # read / create / update / delete / denied
    Column("method", String(8), nullable=False),
    Column("route", String(300), nullable=False),  # the path with ids as {id}
    Column("status", Integer, nullable=False),
    Column("request_id", String(100), nullable=True),
    Column("correlation_id", String(100), nullable=True),
)

# Webhook endpoints registered by councils' clients; a delivery goes only to its own council's endpoints.
webhook_endpoints = Table(
    "webhook_endpoints", metadata,
    Column("id", String(36), primary_key=True),
    Column("la_code", String(16), nullable=False, index=True),
    Column("client_id", String(64), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("description", String(500), nullable=True),
    Column("event_types", JSON, nullable=False),
    Column("secret", String(200), nullable=False),
    # after a rotation the previous secret still signs (a second signature) until previous_secret_until
    Column("previous_secret", String(200), nullable=True),
    Column("previous_secret_until", UtcDateTime(), nullable=True),
    Column("active", Boolean, nullable=False),
    Column("disabled_reason", String(500), nullable=True),
    Column("disabled_at", UtcDateTime(), nullable=True),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    Column("failing_since", UtcDateTime(), nullable=True),
    Column("version", Integer, nullable=False, default=1),  # the ETag; PATCH needs If-Match
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    UniqueConstraint("la_code", "url", name="uq_webhook_endpoints_la_url"),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", String(40), primary_key=True),  # the webhook-id header, the same on every attempt
    Column("endpoint_id", String(36), nullable=False, index=True),
    Column("la_code", String(16), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("body", Text, nullable=False),  # exactly the bytes signed and sent
    Column("state", String(16), nullable=False),  # pending / failed (retry due) / succeeded / abandoned
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime(), nullable=True, index=True),
    Column("last_status_code", Integer, nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    # the child's record the event is about (null when about no one child): a restricted child's deliveries are
    # withheld (state withheld, never sent; the body then holds nothing), with the reason and restriction as codes
    Column("referral_id", String(36), nullable=True),
    Column("withheld_reason", String(30), nullable=True),
    Column("restriction_id", String(36), nullable=True),
    UniqueConstraint("endpoint_id", "event_id", name="uq_webhook_deliveries_endpoint_event"),
)

# restrictions of processing in force on a child's record (decision 0006; libs.common.restrictions): a council's
# webhooks carry no event about a restricted child, as its reads answer 451
restricted_children = restricted_children_table(metadata)

# which child's record a placement or an outreach intervention is (from events naming both: placement.started,
# intervention.started and others), so an event naming only the placement or intervention is attributed to the child
child_record_links = Table(
    "child_record_links", metadata,
    Column("record_id", String(36), primary_key=True),  # a placement id or an intervention id
    Column("referral_id", String(36), nullable=False),
    Column("linked_at", UtcDateTime(), nullable=False),
)

webhook_attempts = Table(
    "webhook_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", String(40), nullable=False, index=True),
    Column("attempted_at", UtcDateTime(), nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", String(500), nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Column("manual", Boolean, nullable=False, default=False),
)

# The token signing keys, shared by every gateway replica (ITP_GATEWAY_STATE=database; services/gateway/keys.py).
# One key is active (active_slot = 1, unique: two replicas cannot both create one); a key that stopped signing
# loses its private half and still verifies the tokens it signed until verify_until.
signing_keys = Table(
    "signing_keys", metadata,
    Column("kid", String(32), primary_key=True),
    Column("status", String(16), nullable=False),  # active / previous / retired
    Column("active_slot", Integer, nullable=True),
    Column("private_pem", Text, nullable=True),
    Column("public_jwk", JSON, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("signing_ended_at", UtcDateTime(), nullable=True),
    Column("verify_until", UtcDateTime(), nullable=True),
    UniqueConstraint("active_slot", name="uq_signing_keys_one_active"),
)

# Rate-limit token buckets shared by every gateway replica (ITP_GATEWAY_STATE=database; protection.py): per
# client ("client:<id>") or per address ("ip:<addr>"); tokens left as of `updated` (epoch seconds).
rate_limit_buckets = Table(
    "rate_limit_buckets", metadata,
    Column("bucket", String(200), primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("updated", Float, nullable=False),
)
