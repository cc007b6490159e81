"""`make bench` summary: the issue's figures are read from both scripts' results and judged
against the aims; a rebuild measured on part of the data set is extrapolated to the whole."""

from __future__ import annotations

from devstack.bench import steal_percent, summary

TICKET_VIEW = {
    "scale": 0.25,
    "projection": {"events_per_s": 24_000.0, "load_before": "0.1 0.1 0.1"},
    "ratios": {"raw_limit_per_s": 46_000, "projection_over_limit": 0.52},
    "rebuild": {"events": 900_000, "seconds": 40.0},
}
GATEWAY = {
    "preview_open_loop": {
        "target_rps": 500.0,
        "requests": 5000,
        "seconds": 10.0,
        "requests_per_s": 499.8,
        "p50_ms": 9.0,
        "p99_ms": 80.0,
        "non_2xx": 0,
        "errors": 0,
    },
    "preview_latency": {"requests_per_s": 700.0},
    "freshness": {"from_accepted": {"p50_ms": 30.0, "p99_ms": 90.0}},
}


def test_figures_are_judged_against_the_aims() -> None:
    result = summary(TICKET_VIEW, GATEWAY)

    assert result["figures"]["list_endpoint"] == "admin preview"
    assert result["figures"]["list_requests_per_s"] == 500.0
    assert result["figures"]["list_saturation_requests_per_s"] == 700.0
    assert result["figures"]["rebuild_full_set_seconds"] == 160.0
    assert result["figures"]["rebuild_extrapolated"] is True
    assert result["met"] == {
        "projection_events_per_s": True,
        "projection_over_raw_limit": True,
        "list_requests_per_s": True,
        "list_p99_ms": False,
        "freshness_p99_ms": True,
        "rebuild_full_set_seconds": False,
    }


def test_the_customer_list_is_preferred_and_missing_figures_are_unknown() -> None:
    behind = {"target_rps": 600.0, "requests": 6000, "seconds": 14.0, "requests_per_s": 430.0}
    gateway = {**GATEWAY, "customer_list_open_loop": {**behind, "p99_ms": 40.0}}
    del gateway["freshness"]

    result = summary(TICKET_VIEW, gateway)

    assert result["figures"]["list_endpoint"] == "customer list"
    assert result["figures"]["list_requests_per_s"] == 430.0
    assert result["met"]["list_requests_per_s"] is False
    assert result["met"]["list_p99_ms"] is True
    assert result["met"]["freshness_p99_ms"] is None


def test_the_hypervisors_share_of_the_cpu_is_reported_with_the_figures() -> None:
    spent = [50, 0, 10, 100, 0, 0, 0, 40]

    assert steal_percent([0] * 8, spent) == 20.0
    assert summary(TICKET_VIEW, GATEWAY, 20.0)["cpu_steal_percent"] == 20.0
