"""Message catalogs and locale formatting of the customer pages.

Rules:
- A portal's pages speak its language (the primary language of its domain, BCP 47). The
  catalog is the closest of those shipped (`en`, `pt_BR`, `es`, `fr`, `de`): the exact tag,
  else its language alone (`pt` → `pt_BR`, `es-MX` → `es`), else English.
- Dates are formatted with Babel in the portal's own locale when Babel knows it, else in the
  catalog's locale; times are shown in UTC, and say so.
- Catalogs are gettext `.po` files under `gateway/web/locale/`, compiled in memory once per
  process (no build step, nothing written to disk).
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from babel import Locale, UnknownLocaleError, dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parents[2] / "web" / "locale"
DOMAIN = "messages"
CATALOGS = ("en", "pt_BR", "es", "fr", "de")
DEFAULT = "en"


def catalog_for(language: str | None) -> str:
    """BCP 47 tag → the name of the shipped catalog that fits best."""
    if not language:
        return DEFAULT
    tag = language.replace("-", "_")
    by_lower = {name.lower(): name for name in CATALOGS}
    if tag.lower() in by_lower:
        return by_lower[tag.lower()]
    base = tag.split("_", 1)[0].lower()
    for name in CATALOGS:
        if name.split("_", 1)[0].lower() == base:
            return name
    return DEFAULT


@cache
def translations(catalog: str) -> gettext.NullTranslations:
    """Compiled from `<catalog>/LC_MESSAGES/messages.po`; English is the source text."""
    po = LOCALE_DIR / catalog / "LC_MESSAGES" / f"{DOMAIN}.po"
    if catalog == DEFAULT or not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as source:
        messages = read_po(source, locale=catalog)
    compiled = io.BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@cache
def babel_locale(language: str | None) -> Locale:
    if language:
        try:
            return Locale.parse(language.replace("-", "_"))
        except (ValueError, UnknownLocaleError):
            pass
    return Locale.parse(catalog_for(language))


@dataclass(frozen=True)
class Formatter:
    """Locale-aware formatting for one page."""

    locale: Locale
    now: datetime

    def full(self, value: str | datetime | None) -> str:
        moment = parse_moment(value)
        if moment is None:
            return ""
        date = dates.format_date(moment, "medium", locale=self.locale)
        time = dates.format_time(moment, "short", tzinfo=UTC, locale=self.locale)
        pattern = str(self.locale.datetime_formats.get("medium", "{1} {0}"))
        return pattern.replace("{1}", date).replace("{0}", time) + " UTC"

    def day(self, value: str | datetime | None) -> str:
        moment = parse_moment(value)
        return dates.format_date(moment, "medium", locale=self.locale) if moment else ""

    def ago(self, value: str | datetime | None) -> str:
        moment = parse_moment(value)
        if moment is None:
            return ""
        delta = moment - self.now
        if abs(delta) < timedelta(seconds=45):
            delta = timedelta(seconds=-1)
        return dates.format_timedelta(
            delta, add_direction=True, threshold=1, format="long", locale=self.locale
        )

    def iso(self, value: str | datetime | None) -> str:
        moment = parse_moment(value)
        return moment.isoformat().replace("+00:00", "Z") if moment else ""


def parse_moment(value: str | datetime | None) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
