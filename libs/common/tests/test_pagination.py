"""The shared opaque cursor: values round-trip with their types; anything else is InvalidCursor."""
from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.common.pagination import InvalidCursor, Page, decode_cursor, encode_cursor

values = st.one_of(st.none(), st.integers(min_value=-2**63, max_value=2**63 - 1), st.text(max_size=40), st.dates(),
                   st.datetimes(timezones=st.just(timezone.utc)))


@given(st.lists(values, max_size=4))
def test_values_come_back_with_their_types(row):
    back = decode_cursor(encode_cursor("x", *row), "x")
    assert back == row and [type(v) for v in back] == [type(v) for v in row]


def test_an_instant_keeps_its_offset_and_a_date_stays_a_date():
    at = datetime(2026, 11, 23, 9, 30, 1, 123456, tzinfo=timezone(timedelta(hours=1)))
    got_at, got_day = decode_cursor(encode_cursor("p", at, date(2026, 1, 2)), "p", datetime, date)
    assert got_at == at and got_at.utcoffset() == timedelta(hours=1)
    assert type(got_day) is date


def test_a_cursor_of_another_listing_is_refused():
    with pytest.raises(InvalidCursor):
        decode_cursor(encode_cursor("r", 1), "q")


def forged(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize("junk", ["", "nonsense", "%%%", "x" * 5000, forged({"r": 1}), forged(["r", {"t": 1}]),
                                  forged(["r", {"t": "2026-11-23T09:00:00"}]), forged(["r", {"d": "23/11/2026"}]),
                                  forged(["r", {"z": "a"}]), forged(["r", [1]]), forged(["r", 1.5]), forged(["r", 2**70]), forged([]),
                                  base64.urlsafe_b64encode(b"\xff\xfe").decode()])
def test_junk_is_invalid_cursor_a_value_error(junk):
    with pytest.raises(InvalidCursor):
        decode_cursor(junk, "r")
    assert issubclass(InvalidCursor, ValueError)


@pytest.mark.parametrize("data", [["r", True, "x"], ["r", 1], ["r", 1, "x", "y"], ["r", "1", "x"],
                                  ["r", {"t": "2026-11-23T09:00:00+00:00"}, "x"]])
def test_the_expected_types_are_checked(data):
    with pytest.raises(InvalidCursor):
        decode_cursor(forged(data), "r", int, str)


def test_a_naive_instant_cannot_be_put_in_a_cursor():
    with pytest.raises(ValueError):
        encode_cursor("r", datetime(2026, 1, 1))


def test_a_page_subclass_names_its_schema():
    class NumberPage(Page[int]):
        pass
    assert NumberPage(items=[1], next_cursor=None).model_dump() == {"items": [1], "next_cursor": None}
    assert NumberPage.model_json_schema()["title"] == "NumberPage"
