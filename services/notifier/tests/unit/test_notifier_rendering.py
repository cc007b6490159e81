"""Every language renders every email: subject, link, escaped HTML, multipart/alternative."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from notifier.adapters.i18n import CATALOGS, LANGUAGES
from notifier.adapters.rendering import JinjaRenderer
from notifier.application.ports import EmailContent
from notifier.domain.delivery import EmailKind

TITLE = 'Acme <script>alert("x")</script> & Co'
LINK = "https://help.acme.test/support/activate?token=tok-123&x=1"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
renderer = JinjaRenderer()


def _render(kind: EmailKind, language: str, link: str | None = LINK, title: str = TITLE):
    content = EmailContent(
        kind=kind,
        language=language,
        portal_title=title,
        recipient_email="ana@example.com",
        recipient_name="Ana <b>",
        link=link,
        link_expires_at=NOW if link else None,
    )
    return renderer.render(content, "<ev-1@portal.notifier>", "Help <help@acme.test>", NOW)


def test_catalogs_have_the_same_keys() -> None:
    assert set(LANGUAGES) == {"en", "pt-BR", "es", "fr", "de"}
    for language, catalog in CATALOGS.items():
        assert catalog.keys() == CATALOGS["en"].keys(), language


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", [EmailKind.REGISTRATION, EmailKind.PASSWORD_RESET])
def test_link_emails_render_in_each_language(language: str, kind: EmailKind) -> None:
    message = _render(kind, language)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == CATALOGS[language][f"{kind.value}.subject"].format(title=TITLE)
    assert message["Message-ID"] == "<ev-1@portal.notifier>"
    assert message["Content-Language"] == language
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert LINK in text and TITLE in text
    assert 'href="https://help.acme.test/support/activate?token=tok-123&amp;x=1"' in html
    assert "<script>" not in html
    assert "Acme &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in html
    assert "Ana &lt;b&gt;" in html
    assert CATALOGS[language][f"{kind.value}.action"] in html
    assert f'<html lang="{language}">' in html


@pytest.mark.parametrize("language", LANGUAGES)
def test_password_changed_notice_has_no_link(language: str) -> None:
    message = _render(EmailKind.PASSWORD_CHANGED, language, link=None)
    text = message.get_body(("plain",)).get_content()
    assert CATALOGS[language]["password_changed.warning"] in text
    assert "token" not in text


def test_expiry_is_written_in_the_language() -> None:
    text = _render(EmailKind.REGISTRATION, "pt-BR").get_body(("plain",)).get_content()
    assert "27 de novembro de 2026" in text


def test_title_with_line_breaks_cannot_inject_headers() -> None:
    message = _render(EmailKind.REGISTRATION, "en", title="Acme\r\nBcc: evil@example.com")
    assert message["Bcc"] is None
    assert message["Subject"] == "Activate your account for Acme Bcc: evil@example.com"
