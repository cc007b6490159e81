import pytest
from gateway.application.key_cache import Account, KeyCache
from gateway.entrypoints.http.errors import ApiError
from gateway.entrypoints.http.middleware import pick_correlation_id
from gateway.entrypoints.http.preconditions import parse_if_match
from starlette.datastructures import Headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("*", None), ("", None), ('"3"', 3), ('W/"12"', 12), ("7", 7), (' "4" ', 4)],
)
def test_if_match_forms_that_name_one_version(header, expected):
    assert parse_if_match(header) == expected


@pytest.mark.parametrize("header", ['"abc"', '"1", "2"', '"3', "W/", '"-1"', '"1.5"'])
def test_if_match_that_can_never_match_is_a_bad_request(header):
    with pytest.raises(ApiError) as raised:
        parse_if_match(header)
    assert (raised.value.status, raised.value.code) == (400, "bad_request")


def test_key_cache_remembers_for_its_ttl_only():
    now = [100.0]
    cache = KeyCache(ttl=5, clock=lambda: now[0])
    cache.put("secret-key", Account("a1", "Acme"))
    assert cache.get("secret-key") == Account("a1", "Acme")
    assert cache.get("other-key") is None
    now[0] += 5
    assert cache.get("secret-key") is None


def test_key_cache_is_bounded_and_keeps_no_key_in_clear():
    cache = KeyCache(ttl=60, clock=lambda: 0.0, max_entries=2)
    for key in ("k1", "k2", "k3"):
        cache.put(key, Account("acc", "Acme"))
    assert cache.get("k1") is None
    assert cache.get("k3") == Account("acc", "Acme")
    assert "k3" not in repr(cache.__dict__)


def test_correlation_id_is_taken_only_when_well_formed():
    assert pick_correlation_id(Headers({"x-correlation-id": "abc-123"})) == "abc-123"
    assert pick_correlation_id(Headers({"x-request-id": "req.9"})) == "req.9"
    generated = pick_correlation_id(Headers({"x-correlation-id": "bad value\n<script>"}))
    assert generated != "bad value\n<script>"
    assert len(generated) == 32
