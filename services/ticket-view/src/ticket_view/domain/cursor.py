"""Opaque keyset cursors: the sort key value and the ticket id of the last item of a page.

A cursor only continues the sort it was made for; anything else is invalid input.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime


class InvalidCursor(ValueError):
    pass


def encode(sort: str, value: datetime, ticket_id: str) -> str:
    raw = json.dumps([sort, value.isoformat(), ticket_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, sort: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        made_for, value, ticket_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        moment = datetime.fromisoformat(value)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("cursor is not valid") from exc
    if made_for != sort or not isinstance(ticket_id, str) or moment.tzinfo is None:
        raise InvalidCursor("cursor does not belong to this sort")
    return moment, ticket_id
