"""The gateway alone, over real HTTP and real NATS, against a scripted fake backend."""

import asyncio

from portal_contracts.rpc import RpcError, RpcReply

PC = "portal-config"


async def test_missing_and_invalid_keys_are_401_with_a_bearer_challenge(client, backend):
    missing = await client.get("/api/v1/portals", headers={"Authorization": ""})
    invalid = await client.get("/api/v1/portals", headers={"Authorization": "Bearer nope-nope"})
    basic = await client.get("/api/v1/portals", headers={"Authorization": "Basic eDp5"})
    bad_json = await client.post(
        "/api/v1/portals",
        content=b"{nope",
        headers={"Authorization": "Bearer nope-nope", "Content-Type": "application/json"},
    )
    for response in (missing, invalid, basic, bad_json):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["error"]["code"] == "unauthorized"
    assert not backend.ops("portal.list")


async def test_a_resolved_key_is_cached_between_requests(client, backend):
    backend.replies[(PC, "portal.list")] = RpcReply.success({"items": []})
    for _ in range(3):
        assert (await client.get("/api/v1/portals")).status_code == 200
    assert len(backend.ops("auth.resolve_key")) == 1
    assert backend.ops("portal.list")[0].body == {"op": "portal.list", "account_id": "acc1"}


async def test_backend_refusals_keep_their_status_code_and_details(client, backend):
    cases = {
        "not_found": (404, {}),
        "conflict": (409, {"domain": "x"}),
        "precondition_failed": (412, {"current_version": 4}),
        "setup_incomplete": (409, {"missing": ["domain", "access"]}),
    }
    for code, (status, details) in cases.items():
        backend.replies[(PC, "portal.activate")] = RpcReply.failure(
            RpcError.of(code, f"refused: {code}", **details)
        )
        response = await client.post("/api/v1/portals/p1/activate")
        assert response.status_code == status
        assert response.json() == {
            "error": {"code": code, "message": f"refused: {code}", "details": details}
        }


async def test_if_match_travels_as_expected_version_and_etag_comes_back(
    client, backend, make_portal
):
    backend.replies[(PC, "portal.set_domain")] = lambda body: RpcReply.success(
        make_portal(version=body["expected_version"] + 1, domain=body["domain"], slug=body["slug"])
    )
    for header, sent in (('"3"', 3), ('W/"4"', 4), ("5", 5)):
        response = await client.put(
            "/api/v1/portals/p1/domain",
            json={"domain": "help.example.com", "slug": "support"},
            headers={"If-Match": header},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == f'"{sent + 1}"'
        call = backend.ops("portal.set_domain")[-1]
        assert call.body["expected_version"] == sent
        assert call.body["domain"] == "help.example.com"
    bad = await client.put(
        "/api/v1/portals/p1/domain",
        json={"domain": "help.example.com", "slug": "support"},
        headers={"If-Match": '"x1"'},
    )
    assert bad.status_code == 400
    assert len(backend.ops("portal.set_domain")) == 3


async def test_get_portal_carries_its_etag_and_bad_ids_are_404(client, backend, make_portal):
    backend.replies[(PC, "portal.get")] = RpcReply.success(make_portal(version=7))
    response = await client.get("/api/v1/portals/p1")
    assert response.headers["etag"] == '"7"'
    assert response.json()["version"] == 7
    weird = await client.get("/api/v1/portals/no%20such!id")
    assert weird.status_code == 404
    assert weird.json()["error"]["code"] == "not_found"
    assert len(backend.ops("portal.get")) == 1


async def test_malformed_json_is_400_and_schema_errors_422_with_field_paths(client, backend):
    broken = await client.post(
        "/api/v1/portals", content=b'{"title": ', headers={"Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert broken.json()["error"]["code"] == "bad_request"
    wrong = await client.put(
        "/api/v1/portals/p1/tickets",
        json={"default_inbox_id": 5, "visibility": {"mode": "everyone"}, "extra": 1},
    )
    assert wrong.status_code == 422
    error = wrong.json()["error"]
    assert error["code"] == "validation_error"
    fields = {e["field"] for e in error["details"]["errors"]}
    assert {"default_inbox_id", "visibility.mode", "extra"} <= fields
    filters = await client.put(
        "/api/v1/portals/p1/tickets",
        json={
            "default_inbox_id": "in1",
            "visibility": {
                "mode": "company_for_some",
                "contact_filters": [[{"property": "tier", "operator": "in", "value": "gold"}]],
            },
        },
    )
    assert filters.status_code == 422
    empty_patch = await client.patch("/api/v1/portals/p1", json={})
    assert empty_patch.status_code == 422
    reserved = await client.put(
        "/api/v1/portals/p1/domain", json={"domain": "a.example", "slug": "api"}
    )
    assert reserved.status_code == 422
    assert not [c for c in backend.calls if c.op.startswith("portal.")]


async def test_framework_errors_use_the_error_shape(client):
    unknown = await client.get("/api/v1/nothing-here")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    method = await client.delete("/api/v1/portals")
    assert method.status_code == 405
    assert method.json()["error"]["code"] == "method_not_allowed"
    assert "allow" in method.headers


async def test_bodies_over_the_limit_are_413_declared_or_streamed(client, backend):
    big = b'{"title": "' + b"x" * 20_000 + b'"}'
    declared = await client.post(
        "/api/v1/portals", content=big, headers={"Content-Type": "application/json"}
    )
    assert declared.status_code == 413
    assert declared.json()["error"]["details"] == {"max_bytes": 10_000}

    async def chunks():
        for _ in range(20):
            yield b"x" * 1000

    streamed = await client.post(
        "/api/v1/portals", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert "content-length" not in streamed.request.headers
    assert not backend.ops("portal.create")


async def test_non_json_bodies_are_415(client, backend):
    response = await client.post(
        "/api/v1/portals", content=b"title=x", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not backend.ops("portal.create")


async def test_no_responder_or_a_silent_one_is_503(client, backend):
    backend.replies[(PC, "portal.list")] = None
    silent = await client.get("/api/v1/portals")
    assert silent.status_code == 503
    assert silent.json()["error"]["code"] == "unavailable"
    await asyncio.sleep(0)


async def test_correlation_id_goes_to_nats_and_comes_back(client, backend, make_portal):
    backend.replies[(PC, "portal.create")] = RpcReply.success(make_portal())
    response = await client.post(
        "/api/v1/portals", json={"title": "Help"}, headers={"X-Correlation-Id": "corr-42"}
    )
    assert response.status_code == 201
    assert response.headers["x-correlation-id"] == "corr-42"
    assert backend.ops("portal.create")[0].headers["X-Correlation-Id"] == "corr-42"
    generated = await client.get("/healthz", headers={"X-Request-Id": "bad id!"})
    assert generated.headers["x-correlation-id"] not in ("", "bad id!")


async def test_every_response_carries_security_headers(client):
    for response in (await client.get("/healthz"), await client.get("/nope")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"


async def test_readiness_follows_the_backends(client, backend):
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    backend.replies[("notifier", "ping")] = None
    backend.replies[("ticket-view", "ping")] = RpcReply.failure(
        RpcError.of("unavailable", "database down")
    )
    not_ready = await client.get("/readyz")
    assert not_ready.status_code == 503
    details = not_ready.json()["error"]["details"]
    assert details["nats"] == "ok"
    assert details["services"] == {
        "portal-config": "ok",
        "ticket-view": "unavailable",
        "notifier": "unavailable",
    }
    assert (await client.get("/healthz")).status_code == 200


async def test_metrics_count_requests_by_route_template(client, backend, make_portal):
    backend.replies[(PC, "portal.get")] = RpcReply.success(make_portal())
    await client.get("/api/v1/portals/p1")
    await client.get("/api/v1/portals/p2")
    text = (await client.get("/metrics")).text
    assert (
        'gateway_http_requests_total{method="GET",route="/api/v1/portals/{portal_id}",'
        'status="200"} 2.0'
    ) in text
    assert "gateway_http_request_duration_seconds_bucket" in text


async def test_openapi_documents_every_admin_route(client):
    spec = (await client.get("/openapi.json")).json()
    paths = spec["paths"]
    for path in (
        "/api/v1/account",
        "/api/v1/domains",
        "/api/v1/inboxes",
        "/api/v1/portals",
        "/api/v1/portals/{portal_id}",
        "/api/v1/portals/{portal_id}/domain",
        "/api/v1/portals/{portal_id}/tickets",
        "/api/v1/portals/{portal_id}/access",
        "/api/v1/portals/{portal_id}/activate",
        "/api/v1/portals/{portal_id}/deactivate",
        "/api/v1/portals/{portal_id}/history",
    ):
        assert path in paths
    assert "PortalView" in spec["components"]["schemas"]
    assert (await client.get("/docs")).status_code == 200
    assert "test-key-0123456789abcdef" not in str(spec)


async def test_hostile_bodies_are_400_never_500(client, backend):
    json_headers = {"Content-Type": "application/json"}
    for body in (b"[" * 5000 + b"]" * 5000, b'{"title": "\xff\xfe"}', b"[]", b'"text"', b"null"):
        response = await client.post("/api/v1/portals", content=body, headers=json_headers)
        assert response.status_code in (400, 422), (body[:20], response.text)
        assert response.json()["error"]["code"] in ("bad_request", "validation_error")
    assert not backend.ops("portal.create")
