"""Opaque cursors for keyset pagination, and the page every list route answers.

A cursor is base64url JSON: ``[kind, *values]``. The kind names the listing (a cursor of one listing is
refused by another); the values are the sort key of the last row handed out. Dates and instants are
tagged so they come back as ``date`` and ``datetime``, not strings. Pure: no web or database imports.
"""
from __future__ import annotations

import base64
import binascii
import json
from datetime import date, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, Field

__all__ = ["InvalidCursor", "Page", "decode_cursor", "encode_cursor"]

MAX_CURSOR_LENGTH = 2048

T = TypeVar("T")


class InvalidCursor(ValueError):
    """Not a cursor this listing handed out."""


# Subclass with the item type, e.g. ``class ReferralPage(Page[Referral]): pass``: the schema is named for it.
class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page")


def _encode_value(value):
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a cursor: instants must be timezone-aware")
        return {"t": value.isoformat()}
    if isinstance(value, date):
        return {"d": value.isoformat()}
    if value is None or isinstance(value, (str, int)):   # bool is an int: kept as JSON true/false
        return value
    raise TypeError(f"cannot put a {type(value).__name__} in a cursor")


def _decode_value(raw):
    if isinstance(raw, dict):
        if len(raw) != 1:
            raise InvalidCursor("not a cursor")
        (tag, text), = raw.items()
        if not isinstance(text, str):
            raise InvalidCursor("not a cursor")
        if tag == "t":
            value = datetime.fromisoformat(text)
            if value.tzinfo is None:
                raise InvalidCursor("naive instant in a cursor")
            return value
        if tag == "d":
            return date.fromisoformat(text)
        raise InvalidCursor("not a cursor")
    if isinstance(raw, int) and not isinstance(raw, bool) and not -2**63 <= raw < 2**63:
        raise InvalidCursor("not a cursor")   # a database column never holds it: refuse before the query
    if raw is None or isinstance(raw, (str, int)):
        return raw
    raise InvalidCursor("not a cursor")


def _is(value, kind: type) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is date:
        return isinstance(value, date) and not isinstance(value, datetime)
    if kind is type(None):
        return value is None
    return isinstance(value, kind)


def encode_cursor(kind: str, *values) -> str:
    """The cursor of a listing ``kind`` positioned after the row whose sort key is ``values``."""
    raw = json.dumps([kind, *[_encode_value(v) for v in values]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str, *types: type) -> list:
    """The values a cursor of listing ``kind`` carries. With ``types``, there must be exactly that many
    values, each of its type (``int`` excludes bool, ``date`` excludes datetime). Raises InvalidCursor."""
    try:
        if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_LENGTH:
            raise InvalidCursor("not a cursor")
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(data, list) or not data or data[0] != kind:
            raise InvalidCursor("cursor of another listing")
        values = [_decode_value(v) for v in data[1:]]
    except InvalidCursor:
        raise
    except (ValueError, binascii.Error, TypeError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidCursor(str(exc) or "not a cursor") from None
    if types and (len(values) != len(types) or not all(_is(v, t) for v, t in zip(values, types))):
        raise InvalidCursor("not a cursor of this listing")
    return values
