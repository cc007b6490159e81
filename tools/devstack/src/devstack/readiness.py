"""Reading the gateway's `/readyz` answer to name the services that are not ready."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

_GOOD = {True, "ok", "up", "ready", "pass", "healthy"}


def _is_good(value: Any) -> bool:
    if isinstance(value, dict):
        flags = [value[k] for k in ("ok", "status", "ready", "healthy") if k in value]
        return bool(flags) and all(_is_good(f) for f in flags)
    if isinstance(value, str):
        return value.lower() in _GOOD
    return value is True


def _walk(node: Any, names: set[str], found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in names and not _is_good(value):
                found.add(key)
            label = node.get("name") or node.get("service")
            if isinstance(label, str) and label in names and not _is_good(node):
                found.add(label)
            _walk(value, names, found)
    elif isinstance(node, list):
        for item in node:
            _walk(item, names, found)


def failing_services(answer: str, services: Iterable[str]) -> list[str]:
    """Service names that the `/readyz` body (after an optional `<status> ` prefix) reports
    as not ready; empty when the body says nothing usable."""
    names = set(services)
    body = answer.split(" ", 1)[1] if answer[:3].isdigit() and " " in answer else answer
    try:
        document = json.loads(body)
    except ValueError:
        return []
    found: set[str] = set()
    _walk(document, names, found)
    return sorted(found)
