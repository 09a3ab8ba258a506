"""JSON API of SLOs: apply specs, list, read, status, explain, history, chart, backtest,
delete."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from watchkeeper.db import utcnow
from watchkeeper.dependencies import ReadToken, SessionDep, SettingsDep, WriteToken
from watchkeeper.errors import InvalidInput
from watchkeeper.flows import charts as chart_flows
from watchkeeper.flows import specs as spec_flows
from watchkeeper.limits import read_body
from watchkeeper.slo import backfill as backfill_service
from watchkeeper.slo import backtest as backtest_service
from watchkeeper.slo import chart, service
from watchkeeper.slo.exceptions import KeyMismatch
from watchkeeper.slo.explain import Explanation, explain
from watchkeeper.slo.models import SLORecord
from watchkeeper.slo.schemas import (
    ApplyResultRead,
    BacktestRead,
    HistoryPoint,
    SLOChartRead,
    SLORead,
    SLOStatusRead,
    backtest_read,
    status_read,
)
from watchkeeper.specs import SpecSet, load_text
from watchkeeper.specs.yaml_nodes import TOO_LARGE, json_shape_problem

router = APIRouter(prefix="/api/v1", tags=["slos"])

_SPEC_BODY = {
    "requestBody": {
        "description": "SLO specs: YAML text (native, OpenSLO v1 or Sloth), or JSON documents",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def parse_spec_body(body: bytes, content_type: str) -> SpecSet:
    """A request body of YAML text or JSON document(s) as a validated spec set."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("spec body is not UTF-8 text") from None
    if not text.strip():
        raise InvalidInput("empty spec body: send YAML or JSON SLO documents")
    if "json" in content_type:
        try:
            data: Any = json.loads(text)
        except ValueError as exc:  # JSONDecodeError, or an integer of too many digits
            raise InvalidInput(f"body is not valid JSON: {exc}") from None
        except RecursionError:
            raise InvalidInput(f"{TOO_LARGE}: JSON nested too deeply") from None
        if data is None or data == [] or data == {}:
            raise InvalidInput("empty spec body: send YAML or JSON SLO documents")
        if isinstance(data, dict) and isinstance(data.get("spec"), str):
            text = data["spec"]
        else:
            # Checked before the YAML dump below, whose recursion follows the nesting.
            problem = json_shape_problem(data)
            if problem is not None:
                raise InvalidInput(problem)
            documents = data if isinstance(data, list) else [data]
            text = yaml.safe_dump_all(documents, sort_keys=False)
    return load_text(text, filename="request body")


async def read_spec_body(request: Request, _token: WriteToken) -> SpecSet:
    """The spec set of a request, read only after the token is checked and within the limit."""
    # Parsed in a worker thread: a large or hostile spec must never hold up the event loop.
    body = await read_body(request)
    content_type = request.headers.get("content-type", "")
    return await run_in_threadpool(parse_spec_body, body, content_type)


def _read(record: SLORecord, status: SLOStatusRead | None) -> SLORead:
    return SLORead(
        key=record.key,
        service=record.service,
        name=record.name,
        source_format=record.source_format,
        spec=record.spec,
        created_at=record.created_at,
        updated_at=record.updated_at,
        status=status,
    )


@router.get("/slos", response_model=list[SLORead])
def list_slos(
    session: SessionDep,
    _token: ReadToken,
    service_name: Annotated[str | None, Query(alias="service")] = None,
) -> list[SLORead]:
    """Applied SLOs with their latest status."""
    records = service.list_slos(session, service=service_name)
    statuses = service.stored_statuses(session, records=records)
    return [_read(r, statuses.get(r.id)) for r in records]


SpecBody = Annotated[SpecSet, Depends(read_spec_body)]


@router.post("/slos", response_model=ApplyResultRead, openapi_extra=_SPEC_BODY)
def apply_slos(spec_set: SpecBody, session: SessionDep, _token: WriteToken) -> ApplyResultRead:
    """Create or update SLOs and policies from specs (all or nothing)."""
    return _apply(session, spec_set)


def _apply(session: SessionDep, spec_set: SpecSet) -> ApplyResultRead:
    result = spec_flows.apply(session, spec_set=spec_set, now=utcnow())
    return ApplyResultRead(**result.__dict__)


@router.get("/slos/{service_name}/{name}", response_model=SLORead)
def get_slo(service_name: str, name: str, session: SessionDep, _token: ReadToken) -> SLORead:
    """One SLO with its spec and latest status."""
    record = service.get(session, key=f"{service_name}/{name}")
    return _read(record, service.stored_status(session, record=record))


@router.put("/slos/{service_name}/{name}", response_model=ApplyResultRead, openapi_extra=_SPEC_BODY)
def put_slo(
    service_name: str, name: str, spec_set: SpecBody, session: SessionDep, _token: WriteToken
) -> ApplyResultRead:
    """Create or replace one SLO; the body must describe exactly that SLO."""
    key = f"{service_name}/{name}"
    keys = [slo.key for slo in spec_set.slos]
    if keys != [key]:
        raise KeyMismatch(f"the body describes {keys or 'no SLO'}, expected exactly [{key!r}]")
    return _apply(session, spec_set)


@router.delete("/slos/{service_name}/{name}", status_code=204)
def delete_slo(service_name: str, name: str, session: SessionDep, _token: WriteToken) -> Response:
    """Remove an SLO with its history."""
    service.delete(session, key=f"{service_name}/{name}")
    return Response(status_code=204)


@router.get("/slos/{service_name}/{name}/status", response_model=SLOStatusRead)
def slo_status(
    service_name: str,
    name: str,
    session: SessionDep,
    _token: ReadToken,
    fresh: Annotated[
        bool, Query(description="Evaluate now instead of the worker's last result")
    ] = False,
) -> SLOStatusRead:
    """The SLO's latest figures (the worker's last tick, or a fresh evaluation)."""
    key = f"{service_name}/{name}"
    record = service.get(session, key=key)
    stored = None if fresh else service.stored_status(session, record=record)
    if stored is not None:
        return stored
    evaluation = service.evaluate_now(session, key=key, at=utcnow())
    return status_read(evaluation.slo, evaluation.status)


@router.get("/slos/{service_name}/{name}/explain", response_model=Explanation)
def explain_slo(
    service_name: str,
    name: str,
    session: SessionDep,
    _token: ReadToken,
    at: datetime | None = None,
) -> Explanation:
    """The arithmetic behind the SLO's figures at ``at`` (default now)."""
    when = _aware(at) if at else utcnow()
    evaluation = service.evaluate_now(session, key=f"{service_name}/{name}", at=when)
    return explain(evaluation.slo, evaluation.status)


@router.get("/slos/{service_name}/{name}/history", response_model=list[HistoryPoint])
def slo_history(
    service_name: str,
    name: str,
    session: SessionDep,
    _token: ReadToken,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 5000,
) -> list[HistoryPoint]:
    """Stored evaluations for charting (default: the last 24 hours)."""
    end = _aware(until) if until else utcnow()
    start = _aware(since) if since else end - timedelta(days=1)
    return service.history(
        session, key=f"{service_name}/{name}", since=start, until=end, limit=limit
    )


@router.get("/slos/{service_name}/{name}/chart", response_model=SLOChartRead)
def slo_chart(
    service_name: str,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    _token: ReadToken,
    start: Annotated[
        datetime | None,
        Query(alias="from", description="Start (RFC 3339 with an offset); default: window start"),
    ] = None,
    end: Annotated[
        datetime | None,
        Query(alias="to", description="End (RFC 3339 with an offset); default now"),
    ] = None,
    points: Annotated[
        int,
        Query(ge=1, le=chart.MAX_POINTS, description="Most points on the time axis"),
    ] = chart.DEFAULT_POINTS,
) -> SLOChartRead:
    """Budget, SLI and burn rates downsampled on the server, with changes, alerts, incidents
    and the forecast as markers on the same axis (docs/api.md)."""
    return chart_flows.slo_chart(
        session,
        key=f"{service_name}/{name}",
        now=utcnow(),
        start=_aware(start, "from") if start else None,
        end=_aware(end, "to") if end else None,
        points=points,
        interval=timedelta(seconds=settings.history_interval_seconds),
    )


# -- backtests (docs/backtest.md) -------------------------------------------------------------

BacktestFrom = Annotated[
    datetime, Query(alias="from", description="Start of the range (RFC 3339 with an offset)")
]
BacktestTo = Annotated[
    datetime | None,
    Query(alias="to", description="End of the range (RFC 3339 with an offset); default now"),
]
_WINDOWS_BODY = {
    "requestBody": {
        "description": "Alert windows to replay instead of the SLO's: a windows file's YAML "
        "({windows: [...], min_events: N}), or the same as JSON",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def windows_body_text(body: bytes, content_type: str) -> str:
    """A request body of alert windows (YAML text or JSON) as YAML text for the windows reader."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("alert windows body is not UTF-8 text") from None
    if not text.strip():
        raise InvalidInput("empty body: send alert windows as YAML or JSON")
    if "json" not in content_type:
        return text
    try:
        data: Any = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidInput(f"{TOO_LARGE}: JSON nested too deeply") from None
    problem = json_shape_problem(data)
    if problem is not None:
        raise InvalidInput(problem)
    return yaml.safe_dump(data, sort_keys=False)


async def read_windows_body(request: Request, _token: ReadToken) -> backtest_service.WindowsFile:
    """The alert windows of a backtest request, read after the token is checked."""
    body = await read_body(request)
    content_type = request.headers.get("content-type", "")
    text = await run_in_threadpool(windows_body_text, body, content_type)
    return backtest_service.WindowsFile(text, "request body")


def _backtest(
    session: SessionDep,
    key: str,
    start: datetime,
    end: datetime | None,
    windows: backtest_service.WindowsFile | None,
) -> BacktestRead:
    now = utcnow()
    run = backtest_service.run(
        session,
        key=key,
        start=_aware(start),
        end=_aware(end) if end else now,
        now=now,
        windows=windows,
    )
    return backtest_read(run.result, windows_source=run.windows_source)


@router.get("/slos/{service_name}/{name}/backtest", response_model=BacktestRead)
def backtest_slo(
    service_name: str,
    name: str,
    session: SessionDep,
    _token: ReadToken,
    start: BacktestFrom,
    end: BacktestTo = None,
) -> BacktestRead:
    """When the SLO's page and ticket alerts would have fired over a past range (<= 400 days)."""
    return _backtest(session, f"{service_name}/{name}", start, end, None)


@router.post(
    "/slos/{service_name}/{name}/backtest",
    response_model=BacktestRead,
    openapi_extra=_WINDOWS_BODY,
)
def backtest_slo_with_windows(
    service_name: str,
    name: str,
    session: SessionDep,
    _token: ReadToken,
    windows: Annotated[backtest_service.WindowsFile, Depends(read_windows_body)],
    start: BacktestFrom,
    end: BacktestTo = None,
) -> BacktestRead:
    """A backtest replaying the alert windows in the body instead of the SLO's (read-only)."""
    return _backtest(session, f"{service_name}/{name}", start, end, windows)


class BackfillRead(BaseModel):
    """What a backfill stored: history points of the span, and how many had events."""

    key: str
    source: str
    start: datetime
    end: datetime
    points: int
    with_data: int
    replaced: int


@router.post("/slos/{service_name}/{name}/backfill", response_model=BackfillRead)
def backfill_slo(
    service_name: str,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    _token: WriteToken,
    start: Annotated[
        datetime | None,
        Query(alias="from", description="Start of the span; default: the SLO window's start"),
    ] = None,
) -> BackfillRead:
    """Recompute the SLO's status history from its source (Prometheus range queries or the
    event store) over ``[from, now)``; the span's history rows are replaced."""
    result = backfill_service.backfill(
        session,
        key=f"{service_name}/{name}",
        now=utcnow(),
        interval=timedelta(seconds=settings.history_interval_seconds),
        start=_aware(start) if start else None,
    )
    return BackfillRead(**result.__dict__)


def _aware(value: datetime, field: str | None = None) -> datetime:
    if value.tzinfo is None:
        named = f"{field}: " if field else ""
        raise InvalidInput(f"{named}time {value.isoformat()} needs a UTC offset (e.g. Z or +01:00)")
    return value
