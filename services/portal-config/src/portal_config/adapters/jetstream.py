"""JetStream streams this service publishes to, ensured idempotently at start."""

from __future__ import annotations

import contextlib

from nats.js import JetStreamContext
from nats.js.errors import BadRequestError
from portal_contracts import Namespace

STREAM_IN_USE = 10058


async def ensure_stream(js: JetStreamContext, name: str, subjects: list[str]) -> None:
    """Creates the stream if missing; an existing stream (maybe configured by another
    service or an operator) is left as it is."""
    with contextlib.suppress(BadRequestError):
        try:
            await js.add_stream(name=name, subjects=subjects)
        except BadRequestError as exc:
            if exc.err_code != STREAM_IN_USE:
                raise
            await js.stream_info(name)


async def ensure_streams(js: JetStreamContext, namespace: Namespace) -> None:
    await ensure_stream(js, namespace.config_stream, [namespace.config_subjects])
    await ensure_stream(js, namespace.dlq_stream, [namespace.dlq_subjects])
