"""JSON API of notifications: list, show, retry a failed one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from watchkeeper.auth.roles import sees_secrets
from watchkeeper.db import MAX_ROW_ID, utcnow
from watchkeeper.dependencies import ReadToken, RowId, SessionDep, WriteToken
from watchkeeper.notify import service
from watchkeeper.notify.schemas import (
    NotificationDetail,
    NotificationRead,
    notification_detail,
    notification_read,
)

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.get("/notifications", response_model=list[NotificationRead])
def list_notifications(
    session: SessionDep,
    _token: ReadToken,
    status: Annotated[str | None, Query(description="pending, sending, delivered, ...")] = None,
    alert_group_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[NotificationRead]:
    """Notifications, newest first."""
    records = service.list_notifications(
        session, status=status, alert_group_id=alert_group_id, limit=limit
    )
    return [notification_read(record) for record in records]


@router.get("/notifications/{notification_id}", response_model=NotificationDetail)
def show_notification(
    notification_id: RowId, session: SessionDep, token: ReadToken
) -> NotificationDetail:
    """One notification with its message, attempts and last error (links in full to admins)."""
    record = service.get(session, notification_id=notification_id)
    return notification_detail(record, secrets=sees_secrets(token.role))


@router.post(
    "/notifications/{notification_id}/retry",
    response_model=NotificationDetail,
    responses={409: {"description": "The notification has not failed (NotRetryable)."}},
)
def retry_notification(
    notification_id: RowId, session: SessionDep, token: WriteToken
) -> NotificationDetail:
    """Send a failed notification again (back to pending, due now)."""
    record = service.retry(session, notification_id=notification_id, now=utcnow())
    return notification_detail(record, secrets=sees_secrets(token.role))
