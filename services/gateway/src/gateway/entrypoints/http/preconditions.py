"""`If-Match` → expected portal version.

Accepted forms: `"7"`, `W/"7"` and a bare `7`; `*` or no header means "the latest version".
Anything else (several tags, a tag that is not a version number) is a 400: it can never match.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header

from .errors import ApiError

_TAG = re.compile(r'^(?:W/)?"?([0-9]{1,18})"?$')


def parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip()
    if text in ("", "*"):
        return None
    match = _TAG.match(text)
    if match is None or text.count('"') not in (0, 2):
        raise ApiError(
            400,
            "bad_request",
            'If-Match must be one portal version, e.g. "3"',
            {"if_match": value[:100]},
        )
    return int(match.group(1))


def etag(version: int) -> str:
    return f'"{version}"'


async def expected_version(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The portal version the change is based on, e.g. "3"; stale → 412.',
        ),
    ] = None,
) -> int | None:
    return parse_if_match(if_match)
