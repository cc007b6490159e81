"""The backing services of the dev stack — NATS, PostgreSQL, SMTP — embedded unless a URL
is given. Started in that order, stopped in reverse."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from .config import SERVICES, ServiceSpec, StackConfig
from .infra import EmbeddedPostgres, NatsServer, create_database, with_database
from .mailsink import MailSink
from .supervisor import reap_stale, remove_pids, write_pid


@dataclass
class Backing:
    config: StackConfig
    nats: NatsServer | None = None
    postgres: EmbeddedPostgres | None = None
    mail: MailSink | None = None
    nats_url: str = ""
    admin_url: str = ""
    smtp_url: str = ""
    database_urls: dict[str, str] = field(default_factory=dict)

    def start_nats(self) -> None:
        """Runs on the main thread: the parent-death signal of a child is tied to the thread
        that forked it."""
        if self.config.nats_url:
            self.nats_url = self.config.nats_url
            return
        reap_stale(self.config.run_dir, {"nats": "nats-server"})
        self.config.log_dir.mkdir(parents=True, exist_ok=True)
        self.nats = NatsServer(
            self.config.nats_dir, log_file=self.config.log_dir / "nats.log", die_with_parent=True
        )
        self.nats.start()
        assert self.nats.process is not None
        write_pid(self.config.run_dir, "nats", self.nats.process.pid)
        self.nats_url = self.nats.url

    async def start_postgres(self) -> None:
        if self.config.database_url:
            self.admin_url = self.config.database_url
        else:
            self.postgres = EmbeddedPostgres(self.config.pg_dir, keep_running=True)
            await asyncio.to_thread(self.postgres.start)
            if (pid := self.postgres.pid) is not None:
                write_pid(self.config.run_dir, "postgres", pid)
            self.admin_url = self.postgres.url
        for spec in SERVICES:
            if name := self.config.database_name(spec):
                await asyncio.to_thread(create_database, self.admin_url, name)
                self.database_urls[spec.name] = with_database(self.admin_url, name)

    def start_mail(self) -> None:
        if self.config.smtp_url:
            self.smtp_url = self.config.smtp_url
            return
        self.mail = MailSink(self.config.mail_sink_dir).start()
        self.smtp_url = self.mail.url

    async def stop(self, force: bool) -> None:
        if self.mail is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self.mail.stop)
            self.mail = None
        if self.nats is not None:
            nats, self.nats = self.nats, None
            if force and nats.process is not None:
                nats.process.kill()
            await asyncio.to_thread(nats.stop)
            remove_pids(self.config.run_dir, ["nats"])
        if self.postgres is not None:
            postgres, self.postgres = self.postgres, None
            await asyncio.to_thread(postgres.stop, "immediate" if force else "fast")
            remove_pids(self.config.run_dir, ["postgres"])

    def describe(self) -> list[tuple[str, str]]:
        cfg = self.config
        nats = f"(embedded, store {cfg.nats_dir})" if self.nats else "(external)"
        pg = f"(embedded, data {cfg.pg_dir})" if self.postgres else "(external)"
        mail = f"(embedded sink → {cfg.mail_sink_dir})" if self.mail else "(external)"
        return [
            ("NATS", f"{self.nats_url} {nats}"),
            ("PostgreSQL", f"{self.admin_url} {pg}"),
            ("SMTP", f"{self.smtp_url} {mail}"),
        ]


def service_env(
    config: StackConfig, backing: Backing, spec: ServiceSpec, metrics_port: int | None
) -> dict[str, str]:
    """The environment of one service: the caller's, plus the URLs of the backing services
    under the service's own prefix (which its settings read first). `DATABASE_URL` is not
    passed on: each service gets its own database."""
    p = spec.env_prefix
    env = {k: v for k, v in config.base_env.items() if k != "DATABASE_URL"}
    env.update(
        {
            "PYTHONUNBUFFERED": "1",
            "NATS_URL": backing.nats_url,
            f"{p}NATS_URL": backing.nats_url,
            "PORTAL_NAMESPACE": config.namespace,
            f"{p}NAMESPACE": config.namespace,
        }
    )
    if metrics_port is not None:
        env[f"{p}METRICS_PORT"] = str(metrics_port)
    if spec.name in backing.database_urls:
        env[f"{p}DATABASE_URL"] = backing.database_urls[spec.name]
    if spec.name == "notifier" and backing.smtp_url:
        env["NOTIFIER_SMTP_URL"] = backing.smtp_url
    if spec.name == "gateway":
        env["GATEWAY_PORT"] = str(config.gateway_port)
    return env
