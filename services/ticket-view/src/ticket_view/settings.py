"""ticket-view settings: the only reader of the environment (prefix `TICKET_VIEW_`)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TICKET_VIEW_", extra="ignore", populate_by_name=True
    )

    nats_url: str = Field(
        "nats://127.0.0.1:4222", validation_alias=AliasChoices("TICKET_VIEW_NATS_URL", "NATS_URL")
    )
    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/ticket_view",
        validation_alias=AliasChoices("TICKET_VIEW_DATABASE_URL", "DATABASE_URL"),
    )
    namespace: str = Field(
        "portal", validation_alias=AliasChoices("TICKET_VIEW_NAMESPACE", "PORTAL_NAMESPACE")
    )
    log_level: str = "INFO"
    metrics_port: int | None = None
    batch_size: int = Field(5000, ge=1, le=10_000)
    """Most stream messages applied in one transaction (a lone message is applied at once)."""
    rebuild_parts: int = Field(2, ge=1, le=16)
    """Processes replaying the CRM stream in a rebuild, each over its share of the sequence
    range: the replay is bound by Python's CPU per event, one process per core."""
    pool_size: int = Field(8, ge=1, le=100)
    """Query connections (one more is held by each projector)."""
    max_concurrent_requests: int = Field(16, ge=1)
    """Requests handled at once; the rest queue (about 2x the pool keeps the pool busy)."""
    shed_after_seconds: float = Field(2.0, gt=0)
    """A request queued longer than this is answered `unavailable` (load shedding)."""
    projector_enabled: bool = True
    rpc_enabled: bool = True
