"""SMTP hand-over with aiosmtplib, configured by one URL."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

Security = Literal["none", "tls", "starttls"]
_DEFAULT_PORT = {"none": 25, "tls": 465, "starttls": 587}
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = None
    validate_certs: bool = True

    def __repr__(self) -> str:
        return f"SmtpTarget({self.security}://{self.host}:{self.port}, user={self.username!r})"


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://host:port` (plain), `smtps://` (implicit TLS), `smtp+starttls://` or
    `?starttls=1` (STARTTLS), `user:password@` for AUTH, `?insecure=1` to skip certificate
    checks."""
    parts = urlsplit(url)
    query = {k: v[-1].lower() for k, v in parse_qs(parts.query).items()}
    security: Security
    if parts.scheme == "smtps":
        security = "tls"
    elif parts.scheme in ("smtp+starttls", "submission") or query.get("starttls") in _TRUE:
        security = "starttls"
    elif parts.scheme == "smtp":
        security = "none"
    else:
        raise ValueError(f"unsupported SMTP URL scheme {parts.scheme!r}")
    if not parts.hostname:
        raise ValueError("SMTP URL needs a host")
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or _DEFAULT_PORT[security],
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        validate_certs=query.get("insecure") not in _TRUE,
    )


class SmtpMailer:
    def __init__(self, target: SmtpTarget, timeout: float):
        self.target = target
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        """Returns once the server accepted the message for delivery; raises otherwise."""
        t = self.target
        await aiosmtplib.send(
            message,
            hostname=t.host,
            port=t.port,
            username=t.username,
            password=t.password,
            use_tls=t.security == "tls",
            start_tls=t.security == "starttls",
            validate_certs=t.validate_certs,
            timeout=self.timeout,
        )
