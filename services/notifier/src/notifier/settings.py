"""Settings of the notifier: the only reader of the environment (prefix `NOTIFIER_`)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFIER_", extra="ignore", populate_by_name=True)

    nats_url: str = Field(
        "nats://127.0.0.1:4222", validation_alias=AliasChoices("NOTIFIER_NATS_URL", "NATS_URL")
    )
    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/notifier",
        validation_alias=AliasChoices("NOTIFIER_DATABASE_URL", "DATABASE_URL"),
    )
    namespace: str = Field(
        "portal", validation_alias=AliasChoices("NOTIFIER_NAMESPACE", "PORTAL_NAMESPACE")
    )
    log_level: str = "INFO"
    metrics_port: int | None = None

    smtp_url: str = Field(
        "smtp://127.0.0.1:25", validation_alias=AliasChoices("NOTIFIER_SMTP_URL", "SMTP_URL")
    )
    """`smtp://host:port`, `smtps://` (implicit TLS), `smtp+starttls://` or `?starttls=1`;
    `user:password@` for AUTH; `?insecure=1` skips certificate checks (development only)."""
    mail_from: str = Field(
        "Customer Portal <no-reply@localhost>",
        validation_alias=AliasChoices("NOTIFIER_MAIL_FROM", "MAIL_FROM"),
    )
    smtp_timeout_seconds: float = 10.0
    message_id_domain: str = "portal.notifier"

    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 900.0
    max_attempts: int = Field(10, ge=1)
    sending_lease_seconds: float = 120.0
    """A delivery left in `sending` longer than this (a crashed sender) is tried again."""
    poll_interval_seconds: float = 1.0
    batch_size: int = Field(20, ge=1, le=500)
    rpc_timeout_seconds: float = 5.0

    stale_after_seconds: float = 3 * 24 * 3600
    """An email due longer ago than this when its event is taken in is not sent (replays)."""

    gauge_interval_seconds: float = 5.0
    stop_grace_seconds: float = 10.0
    """On SIGTERM, how long the attempts in flight may take to finish."""

    consumer_name: str = "notifier"
    ack_wait_seconds: float = 30.0

    @model_validator(mode="after")
    def _lease_outlasts_an_attempt(self) -> Settings:
        """A lease shorter than one attempt (three look-ups and the SMTP call) would let a
        second sender take over a delivery that is still being sent."""
        attempt = 3 * self.rpc_timeout_seconds + self.smtp_timeout_seconds
        if self.sending_lease_seconds <= attempt:
            raise ValueError(
                f"sending_lease_seconds must exceed 3 * rpc_timeout + smtp_timeout ({attempt}s)"
            )
        return self
