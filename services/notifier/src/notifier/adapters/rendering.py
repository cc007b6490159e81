"""Email rendering: Jinja2 templates (HTML autoescaped) and the per-language catalogs,
assembled into a multipart/alternative message (plain text + HTML)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from babel.dates import format_datetime as babel_datetime
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifier.adapters.i18n import BABEL_LOCALE, CATALOGS, LANGUAGES
from notifier.application.ports import EmailContent

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _one_line(value: str) -> str:
    """Header-safe: control characters (CR/LF) become one space."""
    return _CONTROL.sub(" ", value).strip()


class JinjaRenderer:
    languages: tuple[str, ...] = LANGUAGES

    def __init__(self) -> None:
        self.env = Environment(
            loader=PackageLoader("notifier.adapters", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )

    def render(
        self, content: EmailContent, message_id: str, mail_from: str, now: datetime
    ) -> EmailMessage:
        language = content.language if content.language in CATALOGS else "en"
        catalog = CATALOGS[language]
        title = _one_line(content.portal_title)
        name = _one_line(content.recipient_name) if content.recipient_name else None

        def translate(key: str, **values: str) -> str:
            return catalog[key].format(title=title, **values)

        expires = (
            babel_datetime(
                content.link_expires_at, format="long", tzinfo=UTC, locale=BABEL_LOCALE[language]
            )
            if content.link_expires_at
            else None
        )
        subject = translate(f"{content.kind.value}.subject")
        context = {
            "_": translate,
            "kind": content.kind.value,
            "language": language,
            "title": title,
            "subject": subject,
            "greeting": translate("greeting_name", name=name) if name else translate("greeting"),
            "link": content.link,
            "expires": expires,
        }
        text = self.env.get_template("email.txt.j2").render(context)
        html = self.env.get_template("email.html.j2").render(context)

        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = mail_from
        message["To"] = formataddr((name or "", content.recipient_email))
        message["Message-ID"] = message_id
        message["Date"] = format_datetime(now.astimezone(UTC))
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        message["Content-Language"] = language
        return message
