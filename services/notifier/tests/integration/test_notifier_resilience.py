"""Crashes, SMTP outages and giving up: nothing lost, nothing sent twice (except across the
SMTP hand-over, where the duplicate carries the same Message-ID)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from devstack.infra import free_port
from devstack.mailsink import MailSink
from devstack.testing import eventually
from notifier.application.ports import SendHooks
from notifier.domain.delivery import Delivery, DeliveryState
from prometheus_client import REGISTRY


def _stall_at(stage: str) -> tuple[SendHooks, asyncio.Event]:
    reached = asyncio.Event()

    async def stall(delivery: Delivery) -> None:
        reached.set()
        await asyncio.Event().wait()

    return SendHooks(**{stage: stall}), reached


async def _crash_and_restart(harness: Any, sink: MailSink, stage: str) -> tuple[Any, dict]:
    harness.world.contact("c1", "ana@example.com")
    hooks, reached = _stall_at(stage)
    running = await harness.start(hooks=hooks, smtp_url=sink.url)
    event = harness.event("member.invited", "c1")
    await harness.publish(event)
    await asyncio.wait_for(reached.wait(), 10)
    stalled = await running.repo.get(event["event_id"])
    assert stalled is not None and stalled.state is DeliveryState.SENDING
    await harness.stop(running)

    running = await harness.start(smtp_url=sink.url)

    async def sent() -> bool:
        delivery = await running.repo.get(event["event_id"])
        return delivery is not None and delivery.state is DeliveryState.SENT

    await eventually(sent, timeout=10)
    return running, event


async def test_crash_before_smtp_handover_sends_exactly_once(
    harness: Any, mail_sink: MailSink
) -> None:
    running, event = await _crash_and_restart(harness, mail_sink, "before_smtp")
    [message] = mail_sink.messages()
    assert message["Message-ID"] == f"<{event['event_id']}@portal.notifier>"
    delivery = await running.repo.get(event["event_id"])
    assert delivery.attempts >= 2


async def test_crash_after_smtp_handover_repeats_with_same_message_id(
    harness: Any, mail_sink: MailSink
) -> None:
    _, event = await _crash_and_restart(harness, mail_sink, "after_smtp")
    messages = mail_sink.messages()
    assert len(messages) == 2
    assert {m["Message-ID"] for m in messages} == {f"<{event['event_id']}@portal.notifier>"}


async def test_smtp_outage_backlog_drains_once_when_it_returns(
    harness: Any, tmp_path: Path
) -> None:
    directory = tmp_path / "mail"
    first = MailSink(directory).start()
    port = first.port
    for n in range(5):
        harness.world.contact(f"c{n}", f"user{n}@example.com")
    running = await harness.start(smtp_url=first.url)
    first.stop()
    events = [harness.event("member.invited", f"c{n}") for n in range(5)]
    for event in events:
        await harness.publish(event)

    async def all_retrying() -> bool:
        rows = await running.repo.all()
        return len(rows) == 5 and all(r.attempts >= 2 and r.last_error for r in rows)

    await eventually(all_retrying, timeout=10)
    sink = MailSink(directory, port=port).start()
    try:
        await eventually(lambda: len(sink.messages()) == 5, timeout=10)
        await asyncio.sleep(0.5)
        messages = sink.messages()
        assert sorted(m["Message-ID"] for m in messages) == sorted(
            f"<{e['event_id']}@portal.notifier>" for e in events
        )
        assert {r.state for r in await running.repo.all()} == {DeliveryState.SENT}
    finally:
        sink.stop()


async def test_dead_after_max_attempts(harness: Any) -> None:
    harness.world.contact("c1", "ana@example.com")
    dead_before = (
        REGISTRY.get_sample_value("notifier_deliveries_dead_total", {"kind": "registration"}) or 0.0
    )
    running = await harness.start(smtp_url=f"smtp://127.0.0.1:{free_port()}", max_attempts=3)
    event = harness.event("member.invited", "c1")
    await harness.publish(event)

    async def dead() -> Any:
        delivery = await running.repo.get(event["event_id"])
        return delivery if delivery and delivery.state is DeliveryState.DEAD else None

    delivery = await eventually(dead, timeout=10)
    assert delivery.attempts == 3
    assert "Connect" in (delivery.last_error or "") or "refused" in (delivery.last_error or "")
    dead_after = REGISTRY.get_sample_value(
        "notifier_deliveries_dead_total", {"kind": "registration"}
    )
    assert dead_after == dead_before + 1
