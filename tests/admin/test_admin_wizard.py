"""The admin API end to end: HTTP → gateway → NATS → portal-config → PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

TICKETS = {"visibility": {"mode": "own"}}
ACCESS = {"mode": "open", "allowed_email_domains": ["example.com"]}
SHARED = "portals.platform.test"
"""A system domain: the platform's, shared by accounts whose portals differ by slug."""


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def connect(
    client: httpx.AsyncClient, domain: str = "help.acme.test", *, system: bool = False
) -> str:
    body = {"domain": domain, "primary_language": "de", "system": system}
    await ok(await client.post("/api/v1/domains", json=body), 201)
    inbox = await ok(
        await client.post("/api/v1/inboxes", json={"name": "Support", "kind": "help_desk"}), 201
    )
    return str(inbox["id"])


async def test_the_whole_wizard(stack):
    a = stack.a
    account = await ok(await a.get("/api/v1/account"))
    assert account["name"] == "acme"
    inbox_id = await connect(a)
    domains = await ok(await a.get("/api/v1/domains"))
    assert domains["items"] == [
        {"domain": "help.acme.test", "primary_language": "de", "system": False}
    ]
    assert [i["id"] for i in (await ok(await a.get("/api/v1/inboxes")))["items"]] == [inbox_id]

    created = await a.post("/api/v1/portals", json={"title": "Acme Help"})
    portal = await ok(created, 201)
    pid = portal["id"]
    assert portal["status"] == "draft"
    assert sorted(portal["setup"]["missing"]) == ["access", "domain", "tickets"]
    assert created.headers["etag"] == f'"{portal["version"]}"'

    steps = [
        ("put", "domain", {"domain": "help.acme.test", "slug": "support"}),
        ("put", "tickets", {"default_inbox_id": inbox_id, **TICKETS}),
        ("put", "access", ACCESS),
        ("post", "activate", None),
        ("post", "deactivate", None),
    ]
    for method, step, body in steps:
        version = portal["version"]
        response = await a.request(
            method, f"/api/v1/portals/{pid}/{step}", json=body, headers={"If-Match": f'"{version}"'}
        )
        portal = await ok(response)
        assert portal["version"] == version + 1
        assert response.headers["etag"] == f'"{version + 1}"'
    assert portal["status"] == "inactive"
    assert portal["language"] == "de"
    assert portal["setup"]["missing"] == []

    patch = {
        "title": "Acme Support",
        "ticket_display": {
            "pipelines": ["support"],
            "status_labels": {"new": "Received"},
            "allow_close": True,
        },
        "consent_notice": {"enabled": True, "text": "We store your data."},
        "support_form": {
            "enabled": True,
            "fields": [{"name": "order", "label": "Order", "type": "text"}],
        },
    }
    portal = await ok(
        await a.patch(
            f"/api/v1/portals/{pid}", json=patch, headers={"If-Match": f'W/"{portal["version"]}"'}
        )
    )
    assert portal["title"] == "Acme Support"
    assert portal["ticket_display"]["allow_close"] is True

    fetched = await a.get(f"/api/v1/portals/{pid}")
    assert (await ok(fetched)) == portal
    assert fetched.headers["etag"] == f'"{portal["version"]}"'
    assert [p["id"] for p in (await ok(await a.get("/api/v1/portals")))["items"]] == [pid]
    history = (await ok(await a.get(f"/api/v1/portals/{pid}/history")))["items"]
    assert [h["type"] for h in history] == [
        "portal.created",
        "portal.domain_set",
        "portal.tickets_configured",
        "portal.access_configured",
        "portal.activated",
        "portal.deactivated",
        "portal.settings_changed",
    ]
    assert [h["version"] for h in history] == list(range(1, 8))
    assert history[-1]["data"]["title"] == "Acme Support"


async def snapshot(client: httpx.AsyncClient, pid: str) -> tuple[Any, ...]:
    return (
        (await ok(await client.get(f"/api/v1/portals/{pid}"))),
        (await ok(await client.get(f"/api/v1/portals/{pid}/history"))),
        (await ok(await client.get("/api/v1/domains"))),
        (await ok(await client.get("/api/v1/inboxes"))),
        (await ok(await client.get("/api/v1/portals"))),
    )


async def test_every_refused_command_is_a_clear_4xx_and_changes_nothing(stack):
    a, b = stack.a, stack.b
    inbox_id = await connect(a, SHARED, system=True)
    await connect(b, SHARED, system=True)
    await connect(b, "help.globex.test")
    pid = (await ok(await a.post("/api/v1/portals", json={"title": "Acme"}), 201))["id"]
    b_pid = (await ok(await b.post("/api/v1/portals", json={"title": "Globex"}), 201))["id"]
    await ok(
        await b.put(f"/api/v1/portals/{b_pid}/domain", json={"domain": SHARED, "slug": "taken"})
    )
    portal = await ok(
        await a.put(
            f"/api/v1/portals/{pid}/tickets", json={"default_inbox_id": inbox_id, **TICKETS}
        )
    )
    stale = f'"{portal["version"] - 1}"'
    url = f"/api/v1/portals/{pid}"
    json_headers = {"Content-Type": "application/json"}
    bad_filters = {
        "mode": "company_for_some",
        "contact_filters": [[{"property": "tier", "operator": "is_set", "value": 1}]],
    }

    refused: list[tuple[str, int, set[str], Any]] = [
        (
            "unknown domain",
            409,
            {"conflict"},
            a.put(f"{url}/domain", json={"domain": "nowhere.test", "slug": "s"}),
        ),
        (
            "slug taken by another account",
            409,
            {"conflict"},
            a.put(f"{url}/domain", json={"domain": SHARED, "slug": "taken"}),
        ),
        (
            "domain connected to another account",
            409,
            {"conflict"},
            a.post(
                "/api/v1/domains", json={"domain": "help.globex.test", "primary_language": "en"}
            ),
        ),
        (
            "unknown inbox",
            404,
            {"not_found"},
            a.put(f"{url}/tickets", json={"default_inbox_id": "nope", **TICKETS}),
        ),
        (
            "malformed filters",
            422,
            {"validation_error"},
            a.put(f"{url}/tickets", json={"default_inbox_id": inbox_id, "visibility": bad_filters}),
        ),
        (
            "invite without groups",
            422,
            {"validation_error"},
            a.put(f"{url}/access", json={"mode": "invite"}),
        ),
        (
            "bad JSON",
            400,
            {"bad_request"},
            a.patch(url, content=b'{"title": "x"', headers=json_headers),
        ),
        (
            "wrong types",
            422,
            {"validation_error"},
            a.patch(url, json={"title": 5, "consent_notice": "yes"}),
        ),
        (
            "not JSON",
            415,
            {"unsupported_media_type"},
            a.patch(url, content=b"title=x", headers={"Content-Type": "text/plain"}),
        ),
        ("oversized", 413, {"payload_too_large"}, a.patch(url, json={"title": "x" * 100_000})),
        ("missing key", 401, {"unauthorized"}, stack.anonymous.patch(url, json={"title": "x"})),
        (
            "invalid key",
            401,
            {"unauthorized"},
            a.patch(
                url, json={"title": "x"}, headers={"Authorization": "Bearer wrong-key-0123456789"}
            ),
        ),
        ("another account's portal", 404, {"not_found"}, b.patch(url, json={"title": "mine now"})),
        ("another account's portal (read)", 404, {"not_found"}, b.get(f"{url}/history")),
        (
            "stale If-Match",
            412,
            {"precondition_failed"},
            a.patch(url, json={"title": "x"}, headers={"If-Match": stale}),
        ),
        ("incomplete activation", 409, {"setup_incomplete"}, a.post(f"{url}/activate")),
        ("deactivate a draft", 409, {"conflict"}, a.post(f"{url}/deactivate")),
        (
            "duplicate domain",
            409,
            {"conflict"},
            a.post(
                "/api/v1/domains", json={"domain": SHARED, "primary_language": "en", "system": True}
            ),
        ),
        (
            "bad inbox kind",
            422,
            {"validation_error"},
            a.post("/api/v1/inboxes", json={"name": "x", "kind": "mailbox"}),
        ),
    ]
    before = await snapshot(a, pid)
    for name, status, codes, request in refused:
        response = await request
        body = response.json()
        assert response.status_code == status, (name, response.text)
        assert set(body) == {"error"} and body["error"]["code"] in codes, (name, body)
        assert body["error"]["message"], name
        if status == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")
        if name == "incomplete activation":
            assert body["error"]["details"]["missing"] == ["domain", "access"]
    assert await snapshot(a, pid) == before
    assert len((await ok(await b.get("/api/v1/portals")))["items"]) == 1


async def test_the_correlation_id_reaches_portal_config_logs(stack):
    import logging

    import structlog

    pid = (await ok(await stack.a.post("/api/v1/portals", json={"title": "Acme"}), 201))["id"]
    # Services started earlier in the session may have configured a quieter level globally.
    previous = structlog.get_config()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG))
    try:
        with structlog.testing.capture_logs(
            processors=[structlog.contextvars.merge_contextvars]
        ) as logs:
            response = await stack.a.post(
                f"/api/v1/portals/{pid}/activate", headers={"X-Correlation-Id": "e2e-corr-1"}
            )
    finally:
        structlog.configure(**previous)
    assert response.status_code == 409
    assert response.headers["x-correlation-id"] == "e2e-corr-1"
    service_logs = [e for e in logs if e.get("op") == "portal.activate"]
    assert service_logs, logs
    assert all(e["correlation_id"] == "e2e-corr-1" for e in service_logs)


async def test_readiness_follows_portal_config(stack):
    ready = await stack.anonymous.get("/readyz")
    assert ready.status_code == 200, ready.text
    await stack.portal_config.stop()
    stack.portal_config.stop = _noop
    not_ready = await stack.anonymous.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["error"]["details"]["services"] == {"portal-config": "unavailable"}
    down = await stack.a.get("/api/v1/portals")
    assert down.status_code == 503
    assert down.json()["error"]["code"] == "unavailable"


async def _noop() -> None:
    return None


async def test_concurrent_writes_with_one_if_match_let_exactly_one_win(stack):
    import asyncio

    created = await ok(await stack.a.post("/api/v1/portals", json={"title": "Acme"}), 201)
    url, tag = f"/api/v1/portals/{created['id']}", f'"{created["version"]}"'
    responses = await asyncio.gather(
        *(stack.a.patch(url, json={"title": f"T{i}"}, headers={"If-Match": tag}) for i in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 412, 412, 412, 412], [r.text for r in responses]
    history = (await ok(await stack.a.get(f"{url}/history")))["items"]
    assert [h["type"] for h in history] == ["portal.created", "portal.settings_changed"]
