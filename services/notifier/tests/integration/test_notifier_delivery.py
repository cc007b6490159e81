"""Delivery behaviour against real NATS, PostgreSQL and an SMTP sink."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import nats.js.errors
from devstack.mailsink import MailSink
from devstack.testing import eventually
from notifier.domain.delivery import DeliveryState


def _to(messages: list[Any]) -> list[str]:
    return [m["To"].addresses[0].addr_spec for m in messages]


async def test_one_email_per_event_under_redelivery_and_replay(
    harness: Any, mail_sink: MailSink
) -> None:
    harness.world.contact("c1", "ana@example.com", "Ana")
    running = await harness.start(smtp_url=mail_sink.url)
    event = harness.event("member.invited", "c1")
    await harness.publish(event, msg_id="first")
    await harness.publish(event, msg_id="second")
    await eventually(lambda: len(mail_sink.messages()) == 1)

    await harness.stop(running)
    js = harness.nc.jetstream()
    await js.delete_consumer(harness.ns.config_stream, "notifier")
    running = await harness.start(smtp_url=mail_sink.url)
    delivery = await running.repo.get(event["event_id"])
    assert delivery is not None and delivery.state is DeliveryState.SENT
    await asyncio.sleep(0.5)
    info = await js.consumer_info(harness.ns.config_stream, "notifier")
    assert info.num_pending == 0 and info.num_ack_pending == 0

    [message] = mail_sink.messages()
    assert message["Message-ID"] == f"<{event['event_id']}@portal.notifier>"
    assert _to([message]) == ["ana@example.com"]
    assert message["Subject"] == "Activate your account for Acme Help"
    token = harness.world.tokens[0]
    assert token["request"]["purpose"] == "registration"
    assert token["request"]["event_id"] == event["event_id"]
    link = f"https://help.acme.test/support/activate?token={token['token']}"
    assert link in message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(("html",)).get_content()
    assert delivery.recipient == "ana@example.com" and delivery.attempts == 1


async def test_current_email_at_send_time_is_used(harness: Any, mail_sink: MailSink) -> None:
    harness.world.contact("c1", "old@example.com")
    await harness.start(smtp_url=mail_sink.url)
    send_after = datetime.now(UTC) + timedelta(seconds=0.6)
    await harness.publish(harness.event("member.invited", "c1", send_after=send_after))
    harness.world.contact("c1", "new@example.com")
    await eventually(lambda: len(mail_sink.messages()) == 1)
    assert _to(mail_sink.messages()) == ["new@example.com"]


async def test_cancellation_before_send_after_sends_nothing(
    harness: Any, mail_sink: MailSink
) -> None:
    harness.world.contact("c1", "ana@example.com")
    harness.world.contact("c2", "bob@example.com")
    running = await harness.start(smtp_url=mail_sink.url)
    later = datetime.now(UTC) + timedelta(seconds=0.8)
    invite = harness.event("member.invited", "c1", version=1, send_after=later)
    await harness.publish(invite)
    await harness.publish(harness.event("member.invitation_cancelled", "c1", version=2))
    await harness.publish(harness.event("member.invited", "c2", version=1, send_after=later))
    await eventually(lambda: len(mail_sink.messages()) == 1)
    await asyncio.sleep(0.5)
    assert _to(mail_sink.messages()) == ["bob@example.com"]
    delivery = await running.repo.get(invite["event_id"])
    assert delivery is not None and delivery.state is DeliveryState.CANCELLED


async def test_delay_is_honoured(harness: Any, mail_sink: MailSink) -> None:
    harness.world.contact("c1", "ana@example.com")
    await harness.start(smtp_url=mail_sink.url)
    send_after = datetime.now(UTC) + timedelta(seconds=1.5)
    await harness.publish(harness.event("member.invited", "c1", send_after=send_after))
    await asyncio.sleep(1.0)
    assert mail_sink.messages() == []
    await eventually(lambda: len(mail_sink.messages()) == 1, timeout=5)
    assert datetime.now(UTC) >= send_after


async def test_token_conflict_cancels_the_delivery(harness: Any, mail_sink: MailSink) -> None:
    harness.world.contact("c1", "ana@example.com")
    harness.world.refused.add((harness.account, "portal1", "c1"))
    running = await harness.start(smtp_url=mail_sink.url)
    event = harness.event("member.invited", "c1")
    await harness.publish(event)

    async def cancelled() -> bool:
        delivery = await running.repo.get(event["event_id"])
        return delivery is not None and delivery.state is DeliveryState.CANCELLED

    await eventually(cancelled)
    assert mail_sink.messages() == []


async def test_password_reset_and_changed_emails(harness: Any, mail_sink: MailSink) -> None:
    harness.world.portal(title="Hilfe", language="de-AT", url="http://localhost:8000/hilfe")
    harness.world.contact("c1", "ana@example.com", "Ana")
    await harness.start(smtp_url=mail_sink.url)
    await harness.publish(harness.event("member.password_reset_requested", "c1", version=3))
    await eventually(lambda: len(mail_sink.messages()) == 1)
    await harness.publish(harness.event("member.password_changed", "c1", version=4))
    await harness.publish(harness.event("member.activated", "c1", version=5))
    await eventually(lambda: len(mail_sink.messages()) == 2)
    reset, changed = mail_sink.messages()
    token = harness.world.tokens[0]
    assert token["request"]["purpose"] == "password_reset"
    assert reset["Subject"] == "Passwort für Hilfe zurücksetzen"
    link = f"http://localhost:8000/hilfe/password-reset/confirm?token={token['token']}"
    assert link in reset.get_body(("plain",)).get_content()
    assert changed["Subject"] == "Ihr Passwort für Hilfe wurde geändert"
    assert "token=" not in changed.get_body(("plain",)).get_content()
    assert len(harness.world.tokens) == 1


async def test_poison_message_is_parked_and_does_not_block(
    harness: Any, mail_sink: MailSink
) -> None:
    harness.world.contact("c1", "ana@example.com")
    await harness.start(smtp_url=mail_sink.url)
    js = harness.nc.jetstream()
    subject = harness.ns.config_subject(harness.account, "member.invited")
    await js.publish(subject, b"{not json", headers={"Nats-Msg-Id": "poison-1"})
    # Portal events share the stream; they are someone else's, never poison (NATS < 2.10
    # delivers them despite the consumer's subject filters).
    portal_event = {
        "event_id": "portal-evt-1",
        "occurred_at": "2026-11-27T10:00:00Z",
        "account_id": harness.account,
        "portal_id": "p1",
        "version": 1,
        "type": "portal.created",
        "data": {"title": "Help"},
    }
    await js.publish(
        harness.ns.config_subject(harness.account, "portal.created"),
        json.dumps(portal_event).encode(),
    )
    future = harness.event("member.invited", "c1")
    future["schema_version"] = 2
    await js.publish(subject, json.dumps(future).encode())
    await harness.publish(harness.event("member.invited", "c1"))
    await eventually(lambda: len(mail_sink.messages()) == 1)

    async def parked() -> int:
        try:
            info = await js.stream_info(harness.ns.dlq_stream)
        except nats.js.errors.NotFoundError:
            return 0
        return info.state.messages

    await eventually(lambda: parked(), timeout=5)
    assert await parked() == 2
    msg = await js.get_last_msg(
        harness.ns.dlq_stream, harness.ns.dlq_subject("notifier", "unknown_version")
    )
    assert msg.headers and msg.headers["Original-Subject"] == subject


async def test_ping_answers_ok_when_the_database_is_reachable(harness: Any) -> None:
    await harness.start()
    reply = await harness.nc.request(harness.ns.rpc("notifier", "ping"), b"{}", timeout=2)
    assert json.loads(reply.data)["ok"] is True
