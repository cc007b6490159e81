"""Which of the notifier's languages an email is written in."""

from __future__ import annotations

FALLBACK = "en"


def pick_language(requested: str | None, available: tuple[str, ...]) -> str:
    """The portal's language (its domain's primary language, BCP-47): an exact match
    (case-insensitive), else one with the same primary subtag (`pt` and `pt-PT` → `pt-BR`,
    `de-AT` → `de`), else English."""
    if not requested:
        return FALLBACK
    wanted = requested.strip().replace("_", "-").lower()
    by_lower = {tag.lower(): tag for tag in available}
    if wanted in by_lower:
        return by_lower[wanted]
    primary = wanted.split("-", 1)[0]
    for tag in available:
        if tag.lower().split("-", 1)[0] == primary:
            return tag
    return FALLBACK
