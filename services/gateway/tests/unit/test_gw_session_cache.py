"""The gateway's moment of memory of live sessions: what it serves and what makes it forget."""

from __future__ import annotations

from gateway.application.session_cache import SessionCache


class World:
    def __init__(self, ttl: float = 2.0) -> None:
        self.now = 0.0
        self.link: int | None = 0
        self.cache = SessionCache[str](ttl, lambda: self.now, lambda: self.link)

    def remember(self, portal: str, session: str, contact: str) -> None:
        self.cache.put(portal, session, contact, f"{contact}'s session", self.cache.generation)


def test_a_confirmed_session_is_served_for_ttl_seconds_only() -> None:
    world = World(ttl=2.0)
    world.remember("p1", "s1", "c1")
    world.now = 1.9
    assert world.cache.get("p1", "s1") == "c1's session"
    assert world.cache.get("p2", "s1") is None
    world.now = 2.0
    assert world.cache.get("p1", "s1") is None


def test_forgetting_a_member_forgets_all_their_sessions_on_that_portal_only() -> None:
    world = World()
    world.remember("p1", "s1", "c1")
    world.remember("p1", "s2", "c1")
    world.remember("p1", "s3", "c2")
    world.remember("p2", "s4", "c1")
    world.cache.forget("p1", "c1")
    assert world.cache.get("p1", "s1") is None
    assert world.cache.get("p1", "s2") is None
    assert world.cache.get("p1", "s3") == "c2's session"
    assert world.cache.get("p2", "s4") == "c1's session"


def test_a_check_in_flight_while_sessions_ended_is_not_remembered() -> None:
    world = World()
    started = world.cache.generation
    world.cache.forget("p1", "c1")
    world.cache.put("p1", "s1", "c1", "stale", started)
    assert world.cache.get("p1", "s1") is None


def test_nothing_is_served_while_disconnected_and_a_reconnect_forgets_everything() -> None:
    world = World()
    world.remember("p1", "s1", "c1")
    world.link = None
    assert world.cache.get("p1", "s1") is None
    world.remember("p1", "s2", "c1")
    world.link = 1
    assert world.cache.get("p1", "s1") is None
    assert world.cache.get("p1", "s2") is None
    world.remember("p1", "s1", "c1")
    assert world.cache.get("p1", "s1") == "c1's session"


def test_ttl_zero_remembers_nothing() -> None:
    world = World(ttl=0)
    world.remember("p1", "s1", "c1")
    assert world.cache.get("p1", "s1") is None
