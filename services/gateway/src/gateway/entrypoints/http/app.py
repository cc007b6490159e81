"""The FastAPI application: routers, error handlers and middlewares, no connections."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI
from portal_contracts.crm import CrmBatch

from ...observability import Metrics
from ..web import install as install_pages
from . import (
    admin_account,
    admin_members,
    admin_portals,
    admin_preview,
    auth,
    crm_ingest,
    customer_auth,
    customer_tickets,
    errors,
    health,
)
from .middleware import BodyGuard, EdgeMiddleware

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

ROUTERS = (
    customer_tickets.router,
    admin_preview.router,
    health.router,
    admin_account.router,
    admin_portals.router,
    crm_ingest.router,
    admin_members.router,
    customer_auth.router,
)
"""Routes are tried in this order, so the busiest (ticket lists) come first. No path matches
routes of two of these routers, so the order changes nothing else (bar the OpenAPI order)."""

DESCRIPTION = """Customer portal gateway. Every error answers
`{"error": {"code", "message", "details"}}`. Malformed JSON → 400 `bad_request`; a body that
breaks the schema → 422 `validation_error` with `details.errors: [{field, message, type}]`;
a body over the limit → 413; a non-JSON body → 415; a backend that does not answer → 503."""


def build_app(lifespan: Lifespan, limit_for: Callable[[str], int], metrics: Metrics) -> FastAPI:
    app = FastAPI(
        title="Customer Portal Gateway",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    errors.install(app)
    app.state.authenticate_first = auth.authenticate_first
    for router in ROUTERS:
        app.include_router(router)
    install_pages(app)
    app.add_middleware(BodyGuard, limit_for=limit_for)
    app.add_middleware(EdgeMiddleware, metrics=metrics)
    _document_contract_bodies(app)
    return app


def _document_contract_bodies(app: FastAPI) -> None:
    """Bodies parsed by hand (CRM batches) still appear in the OpenAPI document."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        batch = CrmBatch.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(batch.pop("$defs", {}))
        components["CrmBatch"] = batch
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
