"""What `make run` reads from the environment and hands to each service."""

import stat

from devstack.backing import Backing, service_env
from devstack.config import SERVICES, StackConfig
from devstack.demo import demo_key


def test_defaults_start_everything_embedded_under_var(tmp_path):
    config = StackConfig.from_env({}, var_dir=str(tmp_path / "var"))
    assert (config.gateway_port, config.namespace) == (8000, "portal")
    assert config.nats_url is None and config.database_url is None and config.smtp_url is None
    assert config.mail_sink_dir == tmp_path / "var" / "mail"
    assert config.database_name(SERVICES[0]) == "portal_config"


def test_given_urls_replace_the_embedded_servers(tmp_path):
    env = {
        "PORTAL_VAR_DIR": str(tmp_path / "state"),
        "NATS_URL": "nats://127.0.0.1:4222",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "SMTP_URL": "smtp://127.0.0.1:25",
        "MAIL_SINK_DIR": str(tmp_path / "mails"),
        "GATEWAY_PORT": "9999",
        "NOTIFIER_METRICS_PORT": "9300",
        "PORTAL_DATABASE_PREFIX": "x_",
    }
    config = StackConfig.from_env(env)
    assert config.var_dir == tmp_path / "state"
    assert config.nats_url == env["NATS_URL"] and config.smtp_url == env["SMTP_URL"]
    assert config.mail_sink_dir == tmp_path / "mails"
    assert config.metrics_ports == {"notifier": 9300}
    assert config.database_name(SERVICES[1]) == "x_ticket_view"


def test_each_service_gets_its_own_database_and_prefixed_urls(tmp_path):
    config = StackConfig.from_env(
        {"DATABASE_URL": "postgresql://admin@db/postgres", "PATH": "/bin"},
        var_dir=str(tmp_path),
    )
    backing = Backing(config, nats_url="nats://n:1", smtp_url="smtp://m:2")
    backing.database_urls = {"notifier": "postgresql://admin@db/notifier"}
    notifier = next(s for s in SERVICES if s.name == "notifier")
    env = service_env(config, backing, notifier, 9100)
    assert "DATABASE_URL" not in env and env["PATH"] == "/bin"
    assert env["NOTIFIER_DATABASE_URL"] == "postgresql://admin@db/notifier"
    assert env["NOTIFIER_NATS_URL"] == env["NATS_URL"] == "nats://n:1"
    assert env["NOTIFIER_SMTP_URL"] == "smtp://m:2"
    assert env["NOTIFIER_METRICS_PORT"] == "9100"
    assert env["NOTIFIER_NAMESPACE"] == env["PORTAL_NAMESPACE"] == "portal"


def test_the_demo_key_is_generated_once_and_kept_private(tmp_path):
    path = tmp_path / "var" / "demo-admin-key"
    first = demo_key(path)
    assert demo_key(path) == first and len(first) >= 16
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
