"""COPY text encoding of row changes: escapes, NULLs, JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ticket_view.adapters.crm_writer import copy_text
from ticket_view.domain.changes import CONTACTS, Change

AT = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _escaped(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )


def test_text_fields_are_escaped_and_none_is_null():
    tricky = "a\\b\tc\nd\re \u00e9\u200b\x0b"
    change = Change(
        CONTACTS,
        ("acc", "c1"),
        (AT, "e1"),
        (tricky, None, "plain", None, "de", {}, False),
    )
    line = copy_text(CONTACTS, [change]).decode()
    assert line == (
        f"acc\tc1\t{_escaped(tricky)}\t\\N\tplain\t\\N\tde\t{{}}\tf\t{AT.isoformat()}\te1\n"
    )


def test_properties_are_json_whatever_the_encoder():
    """orjson normally; integers beyond 64 bits fall back to the standard encoder."""
    properties = {"note": "line\nbreak \\ \u00e9", "n": 2**70, "x": 1.5, "ok": True, "z": None}
    change = Change(CONTACTS, ("acc", "c1"), (AT, "e1"), (None,) * 5 + (properties, True))
    field = copy_text(CONTACTS, [change]).decode().split("\t")[7]
    unescaped = field.replace("\\\\", "\x00").replace("\\n", "\n").replace("\x00", "\\")
    assert json.loads(unescaped) == properties
