import pytest

from services.gateway.domain.grants import OAuthError, check_grant_type, client_credentials_from, granted_scopes


def error_of(fn, *args) -> tuple[str, int]:
    with pytest.raises(OAuthError) as exc:
        fn(*args)
    return exc.value.error, exc.value.status


def test_a_client_authenticates_by_basic_or_by_form_fields_but_not_both():
    assert client_credentials_from({}, ("a", "s")) == ("a", "s")
    assert client_credentials_from({"client_id": ["a"], "client_secret": ["s"]}, None) == ("a", "s")
    assert client_credentials_from({"client_id": ["a"]}, ("a", "s")) == ("a", "s")
    assert error_of(client_credentials_from, {"client_secret": ["s"]}, ("a", "s")) == ("invalid_request", 400)
    assert error_of(client_credentials_from, {"client_id": ["b"]}, ("a", "s")) == ("invalid_request", 400)
    assert error_of(client_credentials_from, {"client_id": ["a"]}, None) == ("invalid_client", 401)
    assert error_of(client_credentials_from, {}, None) == ("invalid_client", 401)
    assert error_of(client_credentials_from, {"client_id": ["a", "b"], "client_secret": ["s"]}, None) == \
        ("invalid_request", 400)


def test_only_the_client_credentials_grant_is_supported():
    check_grant_type({"grant_type": ["client_credentials"]})
    assert error_of(check_grant_type, {}) == ("invalid_request", 400)
    assert error_of(check_grant_type, {"grant_type": ["authorization_code"]}) == ("unsupported_grant_type", 400)


def test_scopes_asked_for_must_have_been_granted_and_none_asked_means_all():
    granted = ("referrals:read", "referrals:write")
    assert granted_scopes({}, granted) == ["referrals:read", "referrals:write"]
    assert granted_scopes({"scope": [""]}, granted) == ["referrals:read", "referrals:write"]
    assert granted_scopes({"scope": ["referrals:read referrals:read"]}, granted) == ["referrals:read"]
    assert error_of(granted_scopes, {"scope": ["referrals:read invoices:read"]}, granted) == ("invalid_scope", 400)
