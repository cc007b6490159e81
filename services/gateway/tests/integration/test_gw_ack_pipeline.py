"""The ack pipeline against real JetStream: bounded in-flight, duplicates, refusals."""

from __future__ import annotations

import asyncio

import nats
import pytest
from gateway.adapters.ack_pipeline import AckPipeline, PublishRefused
from nats.js.api import StreamConfig


@pytest.fixture
async def nc(nats_url, namespace):
    client = await nats.connect(nats_url)
    await client.jetstream().add_stream(
        StreamConfig(name=namespace.crm_stream, subjects=[namespace.crm_subjects])
    )
    yield client
    await client.close()


def messages(namespace, ids):
    subject = namespace.crm_subject("acc1", "contact.upserted")
    return [(subject, b"{}", {"Nats-Msg-Id": f"m{i}"}) for i in ids]


async def test_batches_larger_than_the_in_flight_bound_are_all_acknowledged(nc, namespace):
    pipeline = AckPipeline(nc, max_in_flight=7)
    await pipeline.start()
    first, second = await asyncio.gather(
        pipeline.publish(messages(namespace, range(100))),
        pipeline.publish(messages(namespace, range(50, 150))),
    )
    assert first + second == 50
    info = await nc.jetstream().stream_info(namespace.crm_stream)
    assert info.state.messages == 150
    assert await pipeline.publish(messages(namespace, [1, 2, 1000])) == 2


async def test_a_subject_without_stream_is_refused(nc):
    pipeline = AckPipeline(nc, max_in_flight=10)
    await pipeline.start()
    with pytest.raises(PublishRefused) as refused:
        await pipeline.publish([("nowhere.at.all", b"{}", {"Nats-Msg-Id": "x"})])
    assert refused.value.no_stream


async def test_an_abandoned_batch_releases_its_slots(nc, namespace):
    pipeline = AckPipeline(nc, max_in_flight=5)
    await pipeline.start()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0):
            await pipeline.publish(messages(namespace, range(20)))
    assert await pipeline.publish(messages(namespace, range(100, 120))) == 0
