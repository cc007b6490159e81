"""Configuration; the only reader of the environment."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PORTAL_CONFIG_", populate_by_name=True)

    nats_url: str = Field(
        "nats://127.0.0.1:4222",
        validation_alias=AliasChoices("nats_url", "PORTAL_CONFIG_NATS_URL", "NATS_URL"),
    )
    database_url: str = Field(
        "postgresql://postgres@127.0.0.1:5432/portal_config",
        validation_alias=AliasChoices("database_url", "PORTAL_CONFIG_DATABASE_URL", "DATABASE_URL"),
    )
    namespace: str = Field(
        "portal",
        validation_alias=AliasChoices("namespace", "PORTAL_CONFIG_NAMESPACE", "PORTAL_NAMESPACE"),
    )
    log_level: str = "info"
    metrics_port: int | None = None
    bootstrap_admin_key: str | None = Field(
        None,
        validation_alias=AliasChoices(
            "bootstrap_admin_key", "PORTAL_CONFIG_BOOTSTRAP_ADMIN_KEY", "PORTAL_BOOTSTRAP_ADMIN_KEY"
        ),
    )
    """When set, the account `default` exists with this admin key (ensured at start)."""
    db_pool_size: int = 10
    outbox_poll_interval: float = 0.5
    session_idle_seconds: int = Field(1800, ge=60)
    session_absolute_seconds: int = Field(12 * 3600, ge=60)
    login_failures_per_email: int = Field(5, ge=1)
    login_failures_per_address: int = Field(50, ge=1)
    login_window_seconds: int = Field(900, ge=1)
    argon2_memory_kib: int = Field(19456, ge=19456)
    argon2_time_cost: int = Field(2, ge=2)
    crm_sweep_interval: float = 30.0

    @field_validator("namespace", mode="before")
    @classmethod
    def _namespace_name(cls, value: Any) -> Any:
        """Accepts a `portal_contracts.Namespace` as well as its name."""
        return getattr(value, "name", value)
