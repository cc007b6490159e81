"""What `python -m devstack run` starts and where it keeps its state.

The environment is read here and nowhere else in devstack. Every URL that is given
(`NATS_URL`, `DATABASE_URL`, `SMTP_URL`) replaces the embedded server of that kind.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the stack: `python -m <package>`, env prefix, own database or none."""

    name: str
    package: str
    env_prefix: str
    database: str | None

    @property
    def log_name(self) -> str:
        return f"{self.name}.log"


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("portal-config", "portal_config", "PORTAL_CONFIG_", "portal_config"),
    ServiceSpec("ticket-view", "ticket_view", "TICKET_VIEW_", "ticket_view"),
    ServiceSpec("notifier", "notifier", "NOTIFIER_", "notifier"),
    ServiceSpec("gateway", "gateway", "GATEWAY_", None),
)

DEFAULT_GATEWAY_PORT = 8000
DEFAULT_READY_TIMEOUT = 120.0
DEFAULT_STOP_GRACE = 15.0


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class StackConfig:
    var_dir: Path
    gateway_port: int = DEFAULT_GATEWAY_PORT
    namespace: str = "portal"
    nats_url: str | None = None
    database_url: str | None = None
    smtp_url: str | None = None
    mail_dir: Path | None = None
    database_prefix: str = ""
    bootstrap_admin_key: str | None = None
    ready_timeout: float = DEFAULT_READY_TIMEOUT
    stop_grace: float = DEFAULT_STOP_GRACE
    quiet: bool = False
    infra_only: bool = False
    with_demo: bool = True
    metrics_ports: Mapping[str, int] = field(default_factory=dict)
    base_env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        var_dir: str | None = None,
        quiet: bool | None = None,
        infra_only: bool = False,
        with_demo: bool = True,
    ) -> StackConfig:
        env = dict(os.environ if environ is None else environ)
        root = Path(var_dir or env.get("PORTAL_VAR_DIR") or "var").resolve()
        metrics = {
            spec.name: int(env[f"{spec.env_prefix}METRICS_PORT"])
            for spec in SERVICES
            if env.get(f"{spec.env_prefix}METRICS_PORT")
        }
        return cls(
            var_dir=root,
            gateway_port=int(env.get("GATEWAY_PORT") or DEFAULT_GATEWAY_PORT),
            namespace=env.get("PORTAL_NAMESPACE") or "portal",
            nats_url=env.get("NATS_URL") or None,
            database_url=env.get("DATABASE_URL") or None,
            smtp_url=env.get("SMTP_URL") or None,
            mail_dir=Path(env["MAIL_SINK_DIR"]).resolve() if env.get("MAIL_SINK_DIR") else None,
            database_prefix=env.get("PORTAL_DATABASE_PREFIX", ""),
            bootstrap_admin_key=env.get("PORTAL_BOOTSTRAP_ADMIN_KEY") or None,
            ready_timeout=float(env.get("DEVSTACK_READY_TIMEOUT") or DEFAULT_READY_TIMEOUT),
            stop_grace=float(env.get("DEVSTACK_STOP_GRACE") or DEFAULT_STOP_GRACE),
            quiet=_flag(env.get("DEVSTACK_QUIET")) if quiet is None else quiet,
            infra_only=infra_only,
            with_demo=with_demo,
            metrics_ports=metrics,
            base_env=env,
        )

    # var/ layout ----------------------------------------------------------------------
    @property
    def nats_dir(self) -> Path:
        return self.var_dir / "nats"

    @property
    def pg_dir(self) -> Path:
        return self.var_dir / "pg"

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "log"

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "run"

    @property
    def mail_sink_dir(self) -> Path:
        return self.mail_dir or self.var_dir / "mail"

    @property
    def demo_key_file(self) -> Path:
        return self.var_dir / "demo-admin-key"

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def database_name(self, spec: ServiceSpec) -> str | None:
        return f"{self.database_prefix}{spec.database}" if spec.database else None
