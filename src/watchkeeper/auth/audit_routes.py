"""JSON API of the audit log (admin only)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from watchkeeper.auth import audit
from watchkeeper.auth.schemas import AuditEventRead, AuditPage
from watchkeeper.dependencies import AdminToken, SessionDep
from watchkeeper.errors import InvalidInput
from watchkeeper.events.rows import parse_time

router = APIRouter(prefix="/api/v1", tags=["audit"])

TIME_HELP = "RFC 3339 with an offset, or Unix seconds."


def _moment(raw: str | None, name: str) -> datetime | None:
    if raw is None:
        return None
    try:
        return datetime.fromtimestamp(parse_time(raw), UTC)
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}") from None
    except (OverflowError, OSError):
        raise InvalidInput(f"{name}: {raw[:100]!r} is out of range") from None


@router.get("/audit", response_model=AuditPage)
def list_audit_events(
    session: SessionDep,
    _token: AdminToken,
    since: Annotated[str | None, Query(description=f"Changes at or after. {TIME_HELP}")] = None,
    until: Annotated[str | None, Query(description=f"Changes before. {TIME_HELP}")] = None,
    actor: Annotated[str | None, Query(description="The acting user, token or person.")] = None,
    object_type: Annotated[
        str | None, Query(alias="type", description=", ".join(audit.OBJECT_TYPES))
    ] = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_LIMIT)] = audit.DEFAULT_LIMIT,
    before_id: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Page: events older than this id.")
    ] = None,
) -> AuditPage:
    """Recorded changes, newest first, a page at a time."""
    events = audit.list_events(
        session,
        since=_moment(since, "since"),
        until=_moment(until, "until"),
        actor=actor,
        object_type=object_type,
        limit=limit,
        before_id=before_id,
    )
    documents = [AuditEventRead.model_validate(audit.document(row)) for row in events]
    next_before_id = events[-1].id if len(events) == limit else None
    return AuditPage(events=documents, next_before_id=next_before_id)
