"""structlog JSON logging and the service's Prometheus metrics."""

from __future__ import annotations

import logging
import sys

import structlog
from prometheus_client import Counter, Gauge, Histogram

RPC_REQUESTS = Counter(
    "portal_config_rpc_requests_total", "RPC requests answered", ["op", "outcome"]
)
RPC_LATENCY = Histogram(
    "portal_config_rpc_latency_seconds",
    "RPC handling time",
    ["op"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
EVENTS_APPENDED = Counter("portal_config_events_appended_total", "Events appended", ["type"])
OUTBOX_PUBLISHED = Counter("portal_config_outbox_published_total", "Outbox rows published")
OUTBOX_DUPLICATES = Counter(
    "portal_config_outbox_duplicates_total", "Publishes JetStream recognised as duplicates"
)
OUTBOX_ERRORS = Counter("portal_config_outbox_errors_total", "Failed relay rounds")
OUTBOX_LAG = Gauge("portal_config_outbox_pending", "Unpublished outbox rows seen last round")


def configure_logging(level: str = "info") -> None:
    """JSON lines on stderr with contextvars (correlation_id, account_id) merged in."""
    logging.basicConfig(stream=sys.stderr, level=level.upper(), format="%(message)s")
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )


MEMBER_EVENTS = Counter("portal_config_member_events_total", "Member events appended", ["type"])
LOGINS = Counter("portal_config_logins_total", "Login attempts", ["outcome"])
CRM_MESSAGES = Counter("portal_config_crm_messages_total", "CRM messages consumed", ["outcome"])
DEAD_LETTERS = Counter("portal_config_dead_letters_total", "Messages parked", ["reason"])
CRM_POSITION = Gauge("portal_config_crm_position", "Last CRM stream sequence applied")
