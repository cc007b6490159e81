"""Customer access over real NATS and PostgreSQL: tokens, passwords, login and its rate
limits, sessions, password reset, revocation, open registration — and no secret in any event."""

from __future__ import annotations

from typing import Any

PASSWORD = "correct horse battery"
OPEN = {"mode": "open", "allowed_email_domains": ["example.com"]}


async def invited_token(world: Any, key: dict[str, str], contact_id: str) -> str:
    await world.ok("member.invite", **key, contact_id=contact_id)
    event = (await world.member_events(contact_id))[-1]
    assert event["type"] == "member.invited"
    issued = await world.ok(
        "member.issue_token",
        **key,
        contact_id=contact_id,
        purpose="registration",
        event_id=event["event_id"],
    )
    assert len(issued["token"]) >= 22
    return str(issued["token"])


async def member(world: Any, key: dict[str, str], contact_id: str, email: str) -> dict[str, Any]:
    """A contact turned active member; returns the activation's session."""
    await world.contact(key["account_id"], contact_id, email)
    token = await invited_token(world, key, contact_id)
    session: dict[str, Any] = await world.ok(
        "member.activate", **key, token=token, password=PASSWORD
    )
    return session


async def test_activation_token_works_once_and_expires(world):
    key = await world.portal(OPEN)
    await world.contact(key["account_id"], "c1", "ann@example.com")
    token = await invited_token(world, key, "c1")
    other = await world.portal(OPEN, name="globex", domain="help.globex.com")
    foreign = await world.error("member.activate", **other, token=token, password=PASSWORD)
    assert foreign["code"] == "bad_request" and foreign["status"] == 400

    session = await world.ok("member.activate", **key, token=token, password=PASSWORD)
    assert session["contact_id"] == "c1" and session["csrf_token"] != session["session_id"]
    reused = await world.error("member.activate", **key, token=token, password=PASSWORD)
    assert reused["code"] == "bad_request"
    assert (await world.error("member.activate", **key, token="x" * 43, password=PASSWORD))[
        "code"
    ] == "bad_request"
    again = await world.error(
        "member.issue_token",
        **key,
        contact_id="c1",
        purpose="registration",
        event_id=(await world.member_events("c1"))[0]["event_id"],
    )
    assert again["code"] == "conflict", "an active member gets no registration email"
    [listed] = (await world.ok("member.list", **key))["items"]
    assert listed["status"] == "active" and listed["activated_at"]

    await world.contact(key["account_id"], "c2", "bob@example.com")
    late = await invited_token(world, key, "c2")
    world.clock.advance(hours=72, seconds=1)
    expired = await world.error("member.activate", **key, token=late, password=PASSWORD)
    assert expired["code"] == "bad_request"


async def test_password_rules(world):
    key = await world.portal(OPEN)
    await world.contact(key["account_id"], "c1", "Ann.Smith@example.com")
    token = await invited_token(world, key, "c1")
    for password, reason in [
        ("short7!", "too_short"),
        ("x" * 129, "too_long"),
        ("password1", "common"),
        ("Qwertyuiop", "common"),
        ("ann.smith", "email"),
        ("ANN.SMITH@EXAMPLE.COM", "email"),
    ]:
        error = await world.error("member.activate", **key, token=token, password=password)
        assert (error["code"], error["details"]["reason"]) == ("validation_error", reason)
        assert password not in str(error)
    assert (await world.error("member.activate", **key, token=token, password="y" * 5000))[
        "code"
    ] == "validation_error"
    await world.ok("member.activate", **key, token=token, password="x" * 128)


async def test_login_same_answer_for_unknown_and_wrong_and_rate_limits(world):
    key = await world.portal(OPEN)
    await member(world, key, "c1", "ann@example.com")
    await world.contact(key["account_id"], "c9", "ann@example.com")
    good = await world.ok("member.login", **key, email="ANN@example.com", password=PASSWORD)
    assert good["contact_id"] == "c1"
    wrong = await world.error("member.login", **key, email="ann@example.com", password="nope" * 3)
    unknown = await world.error("member.login", **key, email="who@example.com", password="nope" * 3)
    assert wrong == unknown and wrong["code"] == "unauthorized" and wrong["status"] == 401

    for _ in range(4):
        await world.error("member.login", **key, email="ann@example.com", password="bad-pass")
    limited = await world.error("member.login", **key, email="ann@example.com", password=PASSWORD)
    assert limited["code"] == "rate_limited" and limited["status"] == 429
    assert 0 < limited["details"]["retry_after_seconds"] <= 900
    world.clock.advance(minutes=15, seconds=1)
    await world.ok("member.login", **key, email="ann@example.com", password=PASSWORD)

    for _ in range(4):
        await world.error("member.login", **key, email="ann@example.com", password="bad-pass")
    await world.ok("member.login", **key, email="ann@example.com", password=PASSWORD)
    for _ in range(4):
        await world.error("member.login", **key, email="ann@example.com", password="bad-pass")
    await world.ok("member.login", **key, email="ann@example.com", password=PASSWORD)

    world.clock.advance(minutes=16)
    address = {"client_address": "203.0.113.7"}
    for index in range(8):
        await world.error(
            "member.login", **key, email=f"u{index}@example.com", password="x" * 9, **address
        )
    by_address = await world.error(
        "member.login", **key, email="ann@example.com", password=PASSWORD, **address
    )
    assert by_address["code"] == "rate_limited"
    await world.ok(
        "member.login",
        **key,
        email="ann@example.com",
        password=PASSWORD,
        client_address="198.51.100.1",
    )


async def test_sessions_expire_end_at_logout_and_belong_to_their_portal(world):
    key = await world.portal(OPEN)
    other = await world.portal(OPEN, slug="other")
    session = await member(world, key, "c1", "ann@example.com")
    sid = session["session_id"]
    view = await world.ok("session.resolve", **key, session_id=sid)
    assert view == {k: session[k] for k in view} and view["contact_id"] == "c1"
    assert (await world.error("session.resolve", **other, session_id=sid))["code"] == "unauthorized"

    world.clock.advance(minutes=29)
    touched = await world.ok("session.resolve", **key, session_id=sid)
    assert touched["idle_expires_at"] > session["idle_expires_at"]
    world.clock.advance(minutes=29)
    await world.ok("session.resolve", **key, session_id=sid)
    world.clock.advance(minutes=31)
    assert (await world.error("session.resolve", **key, session_id=sid))["code"] == "unauthorized"

    long = await world.ok("member.login", **key, email="ann@example.com", password=PASSWORD)
    for _ in range(25):
        world.clock.advance(minutes=29)
        reply = await world.call("session.resolve", **key, session_id=long["session_id"])
    assert not reply["ok"], "12 h absolute expiry"

    third = await world.ok("member.login", **key, email="ann@example.com", password=PASSWORD)
    assert await world.ok("member.logout", **key, session_id=third["session_id"]) == {}
    assert (await world.error("session.resolve", **key, session_id=third["session_id"]))[
        "code"
    ] == "unauthorized"
    assert await world.ok("member.logout", **key, session_id=third["session_id"]) == {}


async def test_password_reset_ends_other_sessions_and_revocation_ends_all(world):
    key = await world.portal(OPEN)
    first = await member(world, key, "c1", "ann@example.com")
    second = await world.ok("member.login", **key, email="ann@example.com", password=PASSWORD)
    assert await world.ok("member.request_password_reset", **key, email="ghost@example.com") == {}
    assert await world.ok("member.request_password_reset", **key, email="ANN@example.com") == {}
    reset = (await world.member_events("c1"))[-1]
    assert reset["type"] == "member.password_reset_requested"
    request = {"contact_id": "c1", "purpose": "password_reset", "event_id": reset["event_id"]}
    token = (await world.ok("member.issue_token", **key, **request))["token"]
    stale = (await world.ok("member.issue_token", **key, **request))["token"]
    world.clock.advance(minutes=31)
    assert (
        await world.error("member.confirm_password_reset", **key, token=stale, password="n3w pass!")
    )["code"] == "bad_request"
    world.clock.advance(minutes=-31)
    renewed = await world.ok(
        "member.confirm_password_reset", **key, token=token, password="brand new secret"
    )
    for old in (first, second):
        error = await world.error("session.resolve", **key, session_id=old["session_id"])
        assert error["code"] == "unauthorized"
    await world.ok("session.resolve", **key, session_id=renewed["session_id"])
    assert (await world.error("member.login", **key, email="ann@example.com", password=PASSWORD))[
        "code"
    ] == "unauthorized"
    assert (await world.error("member.issue_token", **key, **request))["code"] == "conflict"
    assert (await world.member_events("c1"))[-1]["type"] == "member.password_changed"

    await world.ok("member.revoke", **key, contact_id="c1")
    assert (await world.error("session.resolve", **key, session_id=renewed["session_id"]))[
        "code"
    ] == "unauthorized"
    assert (
        await world.error(
            "member.login", **key, email="ann@example.com", password="brand new secret"
        )
    )["code"] == "unauthorized"
    assert await world.ok("member.request_password_reset", **key, email="ann@example.com") == {}
    assert (await world.member_events("c1"))[-1]["type"] == "member.revoked"


async def test_open_registration_is_enumeration_safe_and_rate_limited(world):
    key = await world.portal(OPEN)
    aid = key["account_id"]
    await world.contact(aid, "c1", "ann@example.com")
    await world.contact(aid, "c2", "bob@elsewhere.org")
    replies = [
        await world.call("member.register", **key, email=email)
        for email in ("Ann@Example.com", "nobody@example.com", "bob@elsewhere.org")
    ]
    assert replies == [{"ok": True, "result": {}, "error": None}] * 3
    [event] = await world.member_events()
    assert event["data"] == {
        "contact_id": "c1",
        "send_after": event["occurred_at"],
        "reason": "self_registration",
    }
    for _ in range(5):
        await world.ok("member.register", **key, email="ann@example.com")
    assert len(await world.member_events("c1")) == 3, "at most 3 registrations an hour"

    invite = await world.portal(
        {"mode": "invite", "access_groups": [{"name": "S", "contact_ids": ["zz"]}]}, slug="inv"
    )
    await world.ok("member.register", **invite, email="bob@elsewhere.org")
    assert await world.member_events("c2") == []


async def test_no_secret_reaches_any_event_or_stream(world):
    key = await world.portal(OPEN)
    session = await member(world, key, "c1", "ann@example.com")
    login = await world.ok("member.login", **key, email="ann@example.com", password=PASSWORD)
    await world.ok("member.request_password_reset", **key, email="ann@example.com")
    reset = (await world.member_events("c1"))[-1]
    token = (
        await world.ok(
            "member.issue_token",
            **key,
            contact_id="c1",
            purpose="password_reset",
            event_id=reset["event_id"],
        )
    )["token"]
    await world.ok("member.confirm_password_reset", **key, token=token, password="other secret 9")
    secrets = [
        PASSWORD,
        "other secret 9",
        token,
        session["session_id"],
        login["session_id"],
        session["csrf_token"],
        "ann@example.com",
        "$argon2id$",
    ]
    payloads = await world.raw_stream()
    assert len(payloads) > 5
    for payload in payloads:
        for secret in secrets:
            assert secret.encode() not in payload
    async with world.running.pool.connection() as conn:
        cur = await conn.execute("SELECT payload::text FROM events")
        stored = " ".join(r[0] for r in await cur.fetchall())
        cur = await conn.execute("SELECT password_hash FROM credentials")
        hashes = [r[0] for r in await cur.fetchall()]
    assert not any(secret in stored for secret in secrets)
    assert hashes and all(h.startswith("$argon2id$") and "m=19456,t=2" in h for h in hashes)


async def test_unknown_email_and_wrong_password_cost_about_the_same(world):
    import statistics
    import time

    key = await world.portal(OPEN)
    await member(world, key, "c1", "ann@example.com")

    async def timed(email: str) -> float:
        started = time.perf_counter()
        await world.error("member.login", **key, email=email, password="wrong password")
        return time.perf_counter() - started

    wrong, unknown = [], []
    for index in range(4):
        wrong.append(await timed("ann@example.com"))
        unknown.append(await timed(f"nobody{index}@example.com"))
    ratio = statistics.median(unknown) / statistics.median(wrong)
    assert 0.4 < ratio < 2.5, (wrong, unknown)
