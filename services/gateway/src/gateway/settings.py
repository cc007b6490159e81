"""Gateway settings: the only reader of the environment (prefix `GATEWAY_`)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", populate_by_name=True)

    nats_url: str = Field(
        "nats://127.0.0.1:4222", validation_alias=AliasChoices("GATEWAY_NATS_URL", "NATS_URL")
    )
    namespace: str = Field(
        "portal", validation_alias=AliasChoices("GATEWAY_NAMESPACE", "PORTAL_NAMESPACE")
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    log_level: str = "INFO"
    metrics_port: int | None = None
    rpc_timeout_seconds: float = Field(5.0, gt=0)
    ready_timeout_seconds: float = Field(1.0, gt=0)
    startup_connect_seconds: float = Field(5.0, ge=0)
    """How long start-up waits for NATS before serving anyway (then 503 until connected)."""
    max_body_bytes: int = Field(MIB, gt=0)
    crm_max_body_bytes: int = Field(8 * MIB, gt=0)
    """Body limit of `POST /api/v1/crm/events` (a batch of up to 1000 full events)."""
    crm_max_in_flight: int = Field(1000, ge=1)
    """JetStream publishes awaiting their ack, across all concurrent ingest batches."""
    crm_ack_timeout_seconds: float = Field(5.0, gt=0)
    auth_cache_seconds: float = Field(5.0, ge=0)
    required_services: list[str] = ["portal-config", "ticket-view", "notifier"]
    session_cookie_name: str = "portal_session"
    force_secure_cookies: bool = False
    """Secure session cookies even for plain http to localhost (by default only there not)."""
    trusted_proxies: list[str] = []
    """Peer addresses whose `X-Forwarded-For` names the client (else the peer is the client)."""
    portal_cache_seconds: float = Field(2.0, ge=0)
    """How long a resolved customer portal (host + slug) is reused."""
    session_cache_seconds: float = Field(2.0, ge=0)
    """How long a session portal-config confirmed live is reused without asking again (0: never).
    Sessions that end are forgotten at once through portal-config's broadcast; this bounds how
    long a missed broadcast could matter."""
    read_your_writes_seconds: float = Field(2.0, ge=0)
    """How long a customer write waits for ticket-view to show it before answering anyway."""
