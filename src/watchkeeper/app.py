"""``create_app(settings)``: the FastAPI application with every router and error handler."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from watchkeeper.alerting import escalation_config
from watchkeeper.auth import audit
from watchkeeper.commit_queue import CommitQueue
from watchkeeper.config import Settings
from watchkeeper.db import database_error, make_engine, make_session_factory
from watchkeeper.errors import TooManyRequests, WatchkeeperError
from watchkeeper.limits import BodySizeLimit, limit_by_prefix
from watchkeeper.sources import registry as sources
from watchkeeper.telemetry.metrics import AppMetrics
from watchkeeper.web import errors as web_errors
from watchkeeper.web.access import SignInRequired
from watchkeeper.web.headers import STATIC, SecurityHeaders

log = logging.getLogger("watchkeeper.api")


class ErrorRead(BaseModel):
    """The body of every error answer (some errors add fields, such as per-event errors)."""

    model_config = ConfigDict(extra="allow")

    error: str
    detail: str


def settle_heap() -> None:
    """Exempt what start-up loaded from the garbage collector's full passes; call once, just
    before serving.

    Modules, schemas, mappers and templates live as long as the process; left in the oldest
    generation, every full collection walks them again (tens of milliseconds, every few
    requests of a page that lists 1,000 SLOs). Frozen, a full pass walks only what requests
    made since.
    """
    gc.collect()
    gc.freeze()


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def create_app(settings: Settings, *, engine: Engine | None = None) -> FastAPI:
    """Build the API app; ``engine`` lets tests and the CLI share one connection pool."""
    app = FastAPI(
        title="Watchkeeper",
        version="0.1.0",
        description="SLOs as code, error budgets, burn-rate alerts and deploy gates.",
        # Documents the handler's shape below instead of FastAPI's default validation body.
        responses={
            422: {"model": ErrorRead, "description": "Invalid input; the detail names the field."}
        },
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.resolved_database_url())
    app.state.session_factory = make_session_factory(app.state.engine)
    audit.install()
    app.state.commit_queue = CommitQueue(
        lambda: app.state.session_factory, batched=app.state.engine.dialect.name == "sqlite"
    )
    escalation_config.configure(app.state.session_factory, settings)
    # Metrics sources (Prometheus) travel with the sessions: `slo status`, the gate, backfill.
    app.state.sources = sources.registry_from_settings(settings)
    sources.configure(app.state.session_factory, app.state.sources)
    app.state.metrics = AppMetrics()
    app.state.body_limit = limit_by_prefix(
        {
            "/api/v1/events": settings.event_body_bytes(),
            "/api/v1/integrations": settings.max_alert_body_bytes,
            "/v2": settings.max_alert_body_bytes,
            "/integration": settings.max_alert_body_bytes,
        },
        settings.max_body_bytes,
    )
    app.add_middleware(SecurityHeaders)
    # Added before the metrics middleware, so it runs inside it and its 413s are counted.
    app.add_middleware(BodySizeLimit, limit_for=app.state.body_limit)

    @app.middleware("http")
    async def _count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        elapsed = time.perf_counter() - started
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics: AppMetrics = request.app.state.metrics
        metrics.requests.labels(request.method, path, str(response.status_code)).inc()
        metrics.latency.labels(path).observe(elapsed)
        # The server's own time, apart from the network and the client (W3C Server Timing):
        # browsers show it in their network panel, and bench/pages.py reads it.
        response.headers["Server-Timing"] = f"app;dur={elapsed * 1000:.1f}"
        return response

    @app.exception_handler(WatchkeeperError)
    def _watchkeeper_error(request: Request, exc: WatchkeeperError) -> Response:
        if web_errors.is_page(request):
            return web_errors.page_error(request, exc)
        response = JSONResponse(status_code=exc.status_code, content=exc.to_dict())
        if isinstance(exc, TooManyRequests):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(SignInRequired)
    def _sign_in_required(request: Request, exc: SignInRequired) -> Response:
        return web_errors.sign_in_redirect(request, exc)

    @app.exception_handler(SQLAlchemyError)
    def _database_error(request: Request, exc: SQLAlchemyError) -> Response:
        error = database_error(exc)
        log.error("%s %s: %s", request.method, request.url.path, error.detail, exc_info=exc)
        if web_errors.is_page(request):
            return web_errors.page_error(request, error)
        return JSONResponse(status_code=error.status_code, content=error.to_dict())

    @app.exception_handler(Exception)
    def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
        # Logged by the server as well; the caller gets the error shape, never a plain 500.
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        body = {"error": "InternalError", "detail": "internal error; see the server log"}
        return JSONResponse(status_code=500, content=body)

    @app.exception_handler(RequestValidationError)
    def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        body: dict[str, Any] = {"error": "InvalidInput", "detail": _validation_detail(exc)}
        return JSONResponse(status_code=422, content=body)

    for router in _routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC, check_dir=True), name="static")
    return app


def _routers() -> list[Any]:
    # Imported here so importing watchkeeper.app stays cheap for the CLI.
    from watchkeeper.alerting.intake_routes import intake_router
    from watchkeeper.alerting.routes import links_router
    from watchkeeper.alerting.routes import router as alerting_router
    from watchkeeper.auth.audit_routes import router as audit_router
    from watchkeeper.auth.routes import router as auth_router
    from watchkeeper.auth.team_routes import router as team_router
    from watchkeeper.events.routes import router as events_router
    from watchkeeper.incident.routes import router as incident_router
    from watchkeeper.notify.routes import router as notify_router
    from watchkeeper.oncall.routes import router as oncall_router
    from watchkeeper.policy.routes import router as policy_router
    from watchkeeper.report.routes import router as report_router
    from watchkeeper.slo.routes import router as slo_router
    from watchkeeper.telemetry.routes import router as telemetry_router
    from watchkeeper.web import slo_pages, status_public
    from watchkeeper.web.alert_pages import router as alert_pages_router
    from watchkeeper.web.incident_pages import router as incident_pages_router
    from watchkeeper.web.leadership_pages import router as leadership_pages_router
    from watchkeeper.web.oncall_pages import router as oncall_pages_router
    from watchkeeper.web.routes import router as web_router
    from watchkeeper.web.settings_audit_pages import router as settings_audit_pages_router
    from watchkeeper.web.settings_pages import router as settings_pages_router
    from watchkeeper.web.sign_in_routes import router as sign_in_router

    return [
        telemetry_router,
        events_router,
        slo_router,
        policy_router,
        incident_router,
        report_router,
        auth_router,
        audit_router,
        team_router,
        notify_router,
        oncall_router,
        alerting_router,
        intake_router,
        links_router,
        sign_in_router,
        oncall_pages_router,
        leadership_pages_router,
        settings_pages_router,
        settings_audit_pages_router,
        slo_pages.router,
        slo_pages.data_router,
        status_public.router,
        alert_pages_router,
        incident_pages_router,
        web_router,
    ]
