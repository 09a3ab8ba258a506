"""Liveness, readiness and the Prometheus exposition endpoint."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from watchkeeper.db import session_scope, utcnow
from watchkeeper.incident import burden as incident_burden
from watchkeeper.incident import figures as incident_figures
from watchkeeper.migrate import is_current
from watchkeeper.notify import service as notify_service
from watchkeeper.oncall import service as oncall_service
from watchkeeper.slo import service as slo_service
from watchkeeper.telemetry.metrics import IncidentSample, SLOSample

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    # On the event loop itself, not the thread pool: a pool busy with slow requests (large
    # specs, a slow database) must not make a live server look dead.
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """Readiness: the database answers and its schema is at the newest migration."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = is_current(engine)
    except Exception as exc:  # any database failure means "not ready", reported as such
        return JSONResponse(
            status_code=503, content={"status": "unavailable", "detail": str(exc)[:300]}
        )
    if not current:
        return JSONResponse(
            status_code=503,
            content={"status": "unavailable", "detail": "migrations pending: run db upgrade"},
        )
    return JSONResponse({"status": "ready"})


def slo_samples(request: Request) -> list[SLOSample]:
    """Latest stored figures of every SLO, for the /metrics collector."""
    with session_scope(request.app.state.session_factory) as session:
        records = slo_service.list_slos(session)
        statuses = slo_service.stored_statuses(session, records=records)
    samples = []
    for record in records:
        status = statuses.get(record.id)
        # The identity holds even for an SLO whose stored spec no longer parses.
        objective = slo_service.record_identity(record)["objective"]
        samples.append(
            SLOSample(
                service=record.service,
                slo=record.name,
                objective=objective,
                failing=status is not None and status.error is not None,
                sli=status.sli if status else None,
                budget_remaining=status.error_budget_remaining if status else None,
                burn_rates=status.burn_rates if status else {},
                window_slis=status.slis if status else {},
                alerts=[(a.severity, a.long, a.short, a.firing) for a in status.alerts]
                if status
                else [],
            )
        )
    return samples


def incident_sample(request: Request) -> IncidentSample:
    """Open incidents and MTTA/MTTR over the configured trailing window, for /metrics."""
    window = timedelta(days=request.app.state.settings.incident_metrics_window_days)
    now = utcnow()
    with session_scope(request.app.state.session_factory) as session:
        gauges = incident_figures.gauges(session, window=window, now=now)
        noise = incident_burden.alert_noise(session, since=now - window, until=now)
        pages = incident_burden.pages_by_hours(session, since=now - window, until=now)
    return IncidentSample(
        window.total_seconds(),
        gauges.open,
        gauges.mtta,
        gauges.mttr,
        noise={
            n.service: (n.groups, n.auto_resolved_unacknowledged, n.never_acknowledged)
            for n in noise
        },
        pages={
            (p.responder, hours): count
            for p in pages
            for hours, count in (("business", p.business), ("off", p.off), ("sleep", p.sleep))
        },
    )


def notification_counts(request: Request) -> dict[tuple[str, str], int]:
    """The outbox's rows per channel and status, for the /metrics collector."""
    with session_scope(request.app.state.session_factory) as session:
        return notify_service.counts(session)


def schedule_coverage(request: Request) -> dict[str, float]:
    """The Unix time each imported on-call calendar ends, for the /metrics collector."""
    with session_scope(request.app.state.session_factory) as session:
        ends = oncall_service.calendar_ends(session)
    return {name: end.timestamp() for name, end in ends.items()}


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus exposition: request/ingest metrics, SLO, incident and on-call figures."""
    from prometheus_client import CollectorRegistry

    from watchkeeper.telemetry.metrics import (
        IncidentCollector,
        NotificationCollector,
        ScheduleCoverageCollector,
        SLOCollector,
    )

    app_metrics = request.app.state.metrics
    slo_registry = CollectorRegistry(auto_describe=False)
    slo_registry.register(SLOCollector(lambda: slo_samples(request)))
    slo_registry.register(IncidentCollector(lambda: incident_sample(request)))
    slo_registry.register(NotificationCollector(lambda: notification_counts(request)))
    slo_registry.register(ScheduleCoverageCollector(lambda: schedule_coverage(request)))
    body = generate_latest(app_metrics.registry) + generate_latest(slo_registry)
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)
