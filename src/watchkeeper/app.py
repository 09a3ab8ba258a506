"""``create_app(settings)``: the FastAPI application with every router and error handler."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from watchkeeper.config import Settings
from watchkeeper.db import make_engine, make_session_factory
from watchkeeper.errors import WatchkeeperError


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
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.resolved_database_url())
    app.state.session_factory = make_session_factory(app.state.engine)

    @app.exception_handler(WatchkeeperError)
    def _watchkeeper_error(_request: Request, exc: WatchkeeperError) -> JSONResponse:
        return JSONResponse(status_code=exc.status_code, content=exc.to_dict())

    @app.exception_handler(RequestValidationError)
    def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        body: dict[str, Any] = {"error": "InvalidInput", "detail": _validation_detail(exc)}
        return JSONResponse(status_code=422, content=body)

    for router in _routers():
        app.include_router(router)
    return app


def _routers() -> list[Any]:
    # Imported here so importing watchkeeper.app stays cheap for the CLI.
    from watchkeeper.events.routes import router as events_router

    return [events_router]
