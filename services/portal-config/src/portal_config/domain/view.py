"""The Portal resource as clients see it (API.md)."""

from __future__ import annotations

from portal_contracts.portal import PortalView, SetupState

from .portal import PortalState

_PLAIN_HTTP_HOSTS = frozenset({"localhost", "127.0.0.1"})


def portal_url(domain: str, slug: str) -> str:
    """`https://<domain>/<slug>/`; plain `http://` for a local development host."""
    host = domain.rsplit(":", 1)[0] if ":" in domain else domain
    scheme = "http" if host in _PLAIN_HTTP_HOSTS else "https"
    return f"{scheme}://{domain}/{slug}/"


def to_view(state: PortalState) -> PortalView:
    url = portal_url(state.domain, state.slug) if state.domain and state.slug else None
    return PortalView(
        id=state.id,
        title=state.title,
        status=state.status,
        version=state.version,
        domain=state.domain,
        slug=state.slug,
        url=url,
        language=state.language,
        default_inbox_id=state.default_inbox_id,
        visibility=state.visibility,
        access=state.access,
        ticket_display=state.ticket_display,
        consent_notice=state.consent_notice,
        support_form=state.support_form,
        setup=SetupState(missing=state.missing),
        created_at=state.created_at,
        updated_at=state.updated_at,
    )
