"""Structured logs (structlog JSON to stderr) and Prometheus metrics of the gateway."""

from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram
from structlog.typing import Processor

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def configure_logging(level: str = "INFO") -> None:
    """Process-wide: JSON lines on stderr, contextvars (correlation_id, account_id) merged in.
    Standard-library records (uvicorn, FastStream) are rendered as JSON too."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


class Metrics:
    """One registry per app, so several gateways in one process (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_http_requests_total",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_http_request_duration_seconds",
            "HTTP request latency by method and route template",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rpc = Counter(
            "gateway_rpc_requests_total",
            "NATS request/reply calls by service, operation and outcome",
            ["service", "op", "outcome"],
            registry=self.registry,
        )
        self.rpc_latency = Histogram(
            "gateway_rpc_duration_seconds",
            "NATS request/reply latency by service and operation",
            ["service", "op"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.crm_events = Counter(
            "gateway_crm_events_total",
            "CRM events taken by the ingest endpoint, by outcome (accepted, duplicate, invalid)",
            ["outcome"],
            registry=self.registry,
        )
        self.crm_batches = Counter(
            "gateway_crm_batches_total",
            "CRM ingest batches by outcome (accepted, invalid, unavailable)",
            ["outcome"],
            registry=self.registry,
        )
        self.crm_publish_latency = Histogram(
            "gateway_crm_publish_duration_seconds",
            "Time to publish one batch and receive every JetStream ack",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.read_your_writes = Histogram(
            "gateway_customer_write_visible_seconds",
            "Time from publishing a customer write until ticket-view shows it, by kind "
            "(ticket, message, close) and whether it showed within the wait",
            ["kind", "seen"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
