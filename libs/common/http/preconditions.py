"""ETag and If-Match (RFC 9110 sections 8.8.3 and 13.1.1), one set of rules for every route.

An ETag here is the record's version: `"3"`. If-Match may hold `*`, one tag or a comma-separated list;
a weak tag (`W/"3"`) is compared by its value, as clients and proxies sometimes weaken tags. A route that
changes a record declares `RequiredIfMatch` (428 when missing) or `IfMatch` (optional); either gives the
route a `Precondition` (or None) that the application operation asks about the version it holds under
its row lock, raising `Stale` when it does not match, which the app answers as 412 with the current ETag.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header

from ..errors import PROBLEM_BASE, ProblemError

_TAG = re.compile(r'\s*(?:W/)?"([\x21\x23-\x7e]*)"\s*')


def etag(version: int | str) -> str:
    """The strong ETag of a record at a version."""
    return f'"{version}"'


@dataclass(frozen=True)
class Precondition:
    """A parsed If-Match: `*`, or the set of tag values the caller holds."""

    any: bool
    tags: frozenset[str]

    def admits(self, version: int | str) -> bool:
        return self.any or str(version) in self.tags

    __call__ = admits  # application operations take a callable version -> bool


def parse_if_match(value: str) -> Precondition:
    """Parse an If-Match header; a malformed one is a 400 naming the header and the rule."""
    if value.strip() == "*":
        return Precondition(any=True, tags=frozenset())
    tags = []
    for part in value.split(","):
        m = _TAG.fullmatch(part)
        if m is None:
            bare = part.strip().removeprefix("W/").strip("'")
            if bare and re.fullmatch(r"[\x21\x23-\x7e]+", bare):  # an unquoted tag: say how to quote it
                raise ProblemError(400, "Invalid If-Match", f'ETags are quoted: send If-Match: "{bare}" (with the '
                                   'double quotes, exactly as the ETag header of your last read), not '
                                   f'If-Match: {part.strip()}.', type_=PROBLEM_BASE + "if-match-invalid",
                                   errors=[{"field": "header.if-match", "rule": "etag_quoted",
                                            "message": f'an ETag is quoted, for example "{bare}"'}])
            raise ProblemError(400, "Invalid If-Match", 'If-Match must be "*" or a list of ETags, for example '
                               'If-Match: "3" (the ETag header of your last read).',
                               type_=PROBLEM_BASE + "if-match-invalid",
                               errors=[{"field": "header.if-match", "rule": "etag_list",
                                        "message": "not an entity-tag list"}])
        tags.append(m.group(1))
    return Precondition(any=False, tags=frozenset(tags))


def stale(current_version: int | str, what: str = "record") -> ProblemError:
    """412: the caller's copy is not the current one; the answer carries the current ETag."""
    tag = etag(current_version)
    return ProblemError(412, "Precondition Failed", f"The {what} has changed since you read it: read it again and "
                        "re-apply your change.", type_=PROBLEM_BASE + "stale-etag", headers={"ETag": tag},
                        current_etag=tag)


def precondition_required() -> ProblemError:
    return ProblemError(428, "Precondition Required", "Send If-Match with the ETag of your last read (for example "
                        'If-Match: "3") so that a change never overwrites one you have not seen.',
                        type_=PROBLEM_BASE + "if-match-required",
                        errors=[{"field": "header.if-match", "rule": "required",
                                 "message": "If-Match is required for this change"}])


_DESCRIPTION = "The ETag of your last read of the record (or `*`); a list and weak tags are accepted."


async def _required(if_match: Annotated[str | None, Header(
        alias="If-Match", description="Required. " + _DESCRIPTION,
        json_schema_extra={"x-itp-required": True})] = None) -> Precondition:
    if if_match is None:
        raise precondition_required()
    return parse_if_match(if_match)


async def _optional(if_match: Annotated[str | None, Header(
        alias="If-Match", description="Optional. " + _DESCRIPTION)] = None) -> Precondition | None:
    return None if if_match is None else parse_if_match(if_match)


RequiredIfMatch = Annotated[Precondition, Depends(_required)]
IfMatch = Annotated[Precondition | None, Depends(_optional)]
