"""Pure rules: backoff, giving up, Message-ID, links, language choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from notifier.adapters.i18n import LANGUAGES
from notifier.domain.delivery import (
    DeliveryState,
    EmailKind,
    action_link,
    after_failure,
    backoff,
    message_id_for,
)
from notifier.domain.language import pick_language

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_backoff_doubles_until_capped() -> None:
    assert [backoff(n, 5, 60).total_seconds() for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]
    assert backoff(10_000, 5, 60) == timedelta(seconds=60)


def test_failure_is_retried_until_max_attempts_then_dead() -> None:
    retry = after_failure(2, NOW, max_attempts=3, base_seconds=1, max_seconds=10)
    assert retry.state is DeliveryState.FAILED
    assert retry.next_attempt_at == NOW + timedelta(seconds=2)
    assert after_failure(3, NOW, 3, 1, 10).state is DeliveryState.DEAD


def test_message_id_is_derived_from_the_event_id() -> None:
    assert message_id_for("ev-1", "portal.notifier") == "<ev-1@portal.notifier>"
    assert message_id_for("ev-1", "x") == message_id_for("ev-1", "x")


def test_links_follow_the_http_contract() -> None:
    url = "https://help.acme.test/support/"
    assert action_link(url, EmailKind.REGISTRATION, "abc") == f"{url}activate?token=abc"
    assert (
        action_link("http://localhost:8000/s", EmailKind.PASSWORD_RESET, "a+b/c=")
        == "http://localhost:8000/s/password-reset/confirm?token=a%2Bb%2Fc%3D"
    )


def test_language_falls_back_by_primary_subtag_then_english() -> None:
    assert pick_language("pt-BR", LANGUAGES) == "pt-BR"
    assert pick_language("pt-br", LANGUAGES) == "pt-BR"
    assert pick_language("pt", LANGUAGES) == "pt-BR"
    assert pick_language("de-AT", LANGUAGES) == "de"
    assert pick_language("fr_CA", LANGUAGES) == "fr"
    assert pick_language("ja", LANGUAGES) == "en"
    assert pick_language(None, LANGUAGES) == "en"


def test_an_email_due_long_ago_is_stale() -> None:
    from notifier.domain.delivery import is_stale

    assert is_stale(NOW - timedelta(days=4), NOW, timedelta(days=3))
    assert not is_stale(NOW - timedelta(days=2), NOW, timedelta(days=3))
    assert not is_stale(NOW + timedelta(minutes=2), NOW, timedelta(days=3))
