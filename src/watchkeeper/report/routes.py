"""JSON API of reports: leadership trends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from watchkeeper.db import utcnow
from watchkeeper.dependencies import ReadToken, SessionDep
from watchkeeper.flows import trends as trend_flows
from watchkeeper.report.schemas import TrendsRead

router = APIRouter(prefix="/api/v1", tags=["reports"])


@router.get("/reports/trends", response_model=TrendsRead)
def trends(
    session: SessionDep,
    _token: ReadToken,
    months: Annotated[
        int, Query(ge=1, le=trend_flows.MAX_MONTHS, description="Calendar months, current last")
    ] = 6,
    zone: Annotated[str, Query(description="IANA time zone the months are taken in")] = "UTC",
) -> TrendsRead:
    """SLO compliance, budget consumed, incidents, MTTA/MTTR and pages per calendar month
    (docs/reports.md)."""
    return trend_flows.trends(session, months=months, now=utcnow(), zone=zone)
