"""Message catalogs of the customer pages: complete for every shipped language, chosen by
the portal's language tag, and dates formatted in that locale."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from babel.messages.pofile import read_po
from gateway.entrypoints.web.i18n import CATALOGS, LOCALE_DIR, Formatter, babel_locale, catalog_for


@pytest.mark.parametrize(
    ("tag", "catalog"),
    [
        ("en", "en"),
        ("pt-BR", "pt_BR"),
        ("pt", "pt_BR"),
        ("es-MX", "es"),
        ("fr-CA", "fr"),
        ("de", "de"),
        ("nl", "en"),
        (None, "en"),
    ],
)
def test_the_closest_catalog_is_chosen(tag: str | None, catalog: str) -> None:
    assert catalog_for(tag) == catalog


@pytest.mark.parametrize("catalog", [c for c in CATALOGS if c != "en"])
def test_every_message_is_translated(catalog: str) -> None:
    with (LOCALE_DIR / "messages.pot").open("rb") as source:
        wanted = {m.id for m in read_po(source) if m.id}
    with (LOCALE_DIR / catalog / "LC_MESSAGES" / "messages.po").open("rb") as source:
        po = read_po(source)
    translated = {m.id for m in po if m.id and m.string and not m.fuzzy}
    assert wanted - translated == set()


def test_dates_follow_the_portal_locale() -> None:
    moment = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    now = datetime(2026, 1, 5, 17, 30, tzinfo=UTC)
    assert Formatter(babel_locale("en"), now).full(moment) == "Jan 5, 2026, 2:30\u202fPM UTC"
    assert Formatter(babel_locale("pt-BR"), now).ago(moment) == "há 3 horas"
    assert Formatter(babel_locale("de"), now).ago(moment) == "vor 3 Stunden"
    assert Formatter(babel_locale("fr"), now).full("garbage") == ""


def test_a_flash_keeps_what_fits_and_never_a_password() -> None:
    from gateway.entrypoints.web.state import FLASH_MAX_BYTES, Flash, _fitting

    flash = Flash(
        None,
        "error",
        {"subject": "Printer", "description": "x" * 20_000, "password": "secret"},
        {"subject": "field_required"},
    )
    encoded = _fitting(flash)
    assert len(encoded) <= FLASH_MAX_BYTES
    back = Flash.decode(encoded)
    assert back is not None
    assert back.values == {"subject": "Printer"} and back.errors == {"subject": "field_required"}
    assert Flash.decode("not base64 json!") is None
