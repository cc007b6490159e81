"""`smtp_url` forms."""

from __future__ import annotations

import pytest
from notifier.adapters.smtp import parse_smtp_url


def test_plain_smtp() -> None:
    t = parse_smtp_url("smtp://127.0.0.1:2525")
    assert (t.host, t.port, t.security, t.username) == ("127.0.0.1", 2525, "none", None)


def test_implicit_tls_and_auth_with_escaped_password() -> None:
    t = parse_smtp_url("smtps://mailer%40acme.test:p%40ss%3Aw@smtp.acme.test")
    assert (t.port, t.security) == (465, "tls")
    assert (t.username, t.password) == ("mailer@acme.test", "p@ss:w")
    assert "p@ss" not in repr(t)


@pytest.mark.parametrize(
    "url", ["smtp+starttls://smtp.acme.test", "smtp://smtp.acme.test:587?starttls=1"]
)
def test_starttls(url: str) -> None:
    t = parse_smtp_url(url)
    assert (t.port, t.security, t.validate_certs) == (587, "starttls", True)


def test_insecure_flag_and_bad_scheme() -> None:
    assert parse_smtp_url("smtps://h?insecure=1").validate_certs is False
    with pytest.raises(ValueError):
        parse_smtp_url("http://h")


def test_lease_must_outlast_one_attempt() -> None:
    from notifier.settings import Settings

    with pytest.raises(ValueError, match="sending_lease_seconds"):
        Settings(sending_lease_seconds=5, rpc_timeout_seconds=2, smtp_timeout_seconds=1)
    assert Settings(sending_lease_seconds=8, rpc_timeout_seconds=2, smtp_timeout_seconds=1)
