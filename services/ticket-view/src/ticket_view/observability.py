"""Structured logs (structlog JSON to stderr) and Prometheus metrics of ticket-view."""

from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


def configure_logging(level: str = "INFO") -> None:
    """Process-wide: JSON lines on stderr, contextvars (correlation_id, account_id) merged in."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        numeric = logging.INFO
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s")


class Metrics:
    """One registry per running service, so several instances in one process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "ticket_view_projected_events_total",
            "Stream messages applied to the read model",
            ["projection"],
            registry=self.registry,
        )
        self.skipped = Counter(
            "ticket_view_skipped_events_total",
            "Redelivered messages at or below the tracking position",
            ["projection"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "ticket_view_dead_letters_total",
            "Poison messages parked on the dead-letter subject",
            ["projection", "reason"],
            registry=self.registry,
        )
        self.position = Gauge(
            "ticket_view_projection_position",
            "Stream sequence the read model has applied",
            ["projection"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "ticket_view_consumer_lag",
            "Messages in the stream not yet delivered to the projection",
            ["projection"],
            registry=self.registry,
        )
        self.batch_seconds = Histogram(
            "ticket_view_batch_duration_seconds",
            "Time to apply one batch (transaction included)",
            ["projection"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.requests = Counter(
            "ticket_view_rpc_requests_total",
            "Request/reply calls by operation and outcome",
            ["op", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ticket_view_rpc_duration_seconds",
            "Request/reply handling time by operation",
            ["op"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
