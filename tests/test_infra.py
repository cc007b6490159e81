"""The test infrastructure itself: real servers answer and tests are isolated."""

import nats
import psycopg


async def test_jetstream_answers_in_its_own_namespace(nats_url, namespace):
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name=namespace.crm_stream, subjects=[namespace.crm_subjects])
    ack = await js.publish(namespace.crm_subject("acc1", "contact.upserted"), b"{}")
    assert ack.seq == 1
    await nc.close()


def test_each_test_gets_a_fresh_database(make_database):
    first, second = make_database("a"), make_database("b")
    with psycopg.connect(first, autocommit=True) as conn:
        conn.execute("CREATE TABLE marker (x int)")
    with psycopg.connect(second, autocommit=True) as conn:
        missing = conn.execute("SELECT to_regclass('marker')").fetchone()
    assert missing == (None,)
