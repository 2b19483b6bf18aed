"""The referral read's statement (repository._by_id) is built once for each shape and keeps tenancy in a bind
parameter (libs.common.tenancy.readable_bound); the system tests read referrals through it as each council and
the hub (tests/test_tenancy_walk.py)."""
from services.referral.repository import _by_id


def test_the_referral_read_statement_is_built_once_per_shape():
    assert _by_id(True, False) is _by_id(True, False)
    assert _by_id(True, False) is not _by_id(False, False)
    assert "tenancy_la_code" in str(_by_id(True, False)) and "tenancy_la_code" not in str(_by_id(False, False))
    assert "FOR UPDATE" not in str(_by_id(True, False))
