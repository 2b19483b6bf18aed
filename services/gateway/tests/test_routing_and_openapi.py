from services.gateway.domain.secrets import hash_secret, verify_secret
from services.gateway.openapi import merge
from services.gateway.routing import service_for


def test_each_path_goes_to_the_service_that_owns_it():
    assert service_for("/v1/referrals") == "referral"
    assert service_for("/v1/referrals/abc") == "referral"
    assert service_for("/v1/referrals/abc/matches") == "matching"
    assert service_for("/v1/homes/1/go-live") == "matching"
    assert service_for("/v1/placements/1/arrival") == "assessment"
    assert service_for("/v1/invoices") == "billing"
    assert service_for("/v1/outcomes") == "outcomes"
    assert service_for("/v1/referralsx") is None
    assert service_for("/v1/unknown") is None


def test_merging_keeps_both_services_schemas_when_their_names_clash():
    a = {"paths": {"/v1/a": {"get": {"responses": {"200": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Thing"}}}}}}}},
         "components": {"schemas": {"Thing": {"type": "object", "properties": {"a": {"type": "string"}}}}}}
    b = {"paths": {"/v1/b": {"get": {"responses": {"200": {"content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Thing"}}}}}}}, "/health/live": {"get": {}}},
         "components": {"schemas": {"Thing": {"type": "object", "properties": {"b": {"type": "integer"}}}}}}
    doc = merge({"referral": a, "matching": b}, title="t", version="1", description="d")
    assert set(doc["paths"]) == {"/v1/a", "/v1/b"}
    ref_b = doc["paths"]["/v1/b"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref_b == "#/components/schemas/MatchingThing"
    assert "b" in doc["components"]["schemas"]["MatchingThing"]["properties"]
    assert "a" in doc["components"]["schemas"]["Thing"]["properties"]


def test_client_secrets_are_kept_only_as_salted_hashes_that_verify():
    stored = hash_secret("s3cret")
    assert "s3cret" not in stored and stored != hash_secret("s3cret")
    assert verify_secret("s3cret", stored)
    assert not verify_secret("wrong", stored)
    assert not verify_secret("s3cret", "garbage")
