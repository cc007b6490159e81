"""Prometheus metrics (process-wide, served when `metrics_port` is set)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter("notifier_events_total", "Member events taken in", ["type", "outcome"])
SENT = Counter("notifier_emails_sent_total", "Emails accepted by the SMTP server", ["kind"])
FAILED = Counter("notifier_email_attempts_failed_total", "Failed send attempts", ["kind"])
DEAD = Counter("notifier_deliveries_dead_total", "Deliveries given up on", ["kind"])
CANCELLED = Counter("notifier_deliveries_cancelled_total", "Deliveries cancelled", ["kind"])
DEAD_LETTERS = Counter("notifier_dead_letters_total", "Poison messages parked", ["reason"])
SEND_SECONDS = Histogram("notifier_smtp_send_seconds", "SMTP hand-over latency")
OPEN = Gauge("notifier_deliveries_open", "Deliveries not yet final, by state", ["state"])
CONSUMER_PENDING = Gauge("notifier_consumer_pending", "Member events not yet taken in (lag)")
