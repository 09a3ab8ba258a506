"""Pages of incidents for the dashboard: by status and severity, with the total."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.incident.conftest import NOW
from watchkeeper.errors import InvalidInput
from watchkeeper.incident import declaration, service


def _declare(session: Session, title: str, severity: str, minutes: int) -> int:
    at = NOW + timedelta(minutes=minutes)
    return declaration.declare(session, title=title, severity=severity, actor="bob", now=at).id


def test_pages_filter_by_status_and_severity(session: Session) -> None:
    a = _declare(session, "a", "SEV1", 0)
    b = _declare(session, "b", "SEV2", 1)
    c = _declare(session, "c", "SEV2", 2)
    service.resolve(session, incident_id=a, actor="bob", now=NOW + timedelta(hours=1))

    def ids(**filters: str | None) -> tuple[list[int], int]:
        rows, total = service.incident_page(
            session,
            status=filters.get("status"),
            severity=filters.get("severity"),
            page=int(filters.get("page") or 1),
            per_page=2,
        )
        return [r.id for r in rows], total

    assert ids() == ([c, b], 3)
    assert ids(page="2") == ([a], 3)
    assert ids(status="open") == ([c, b], 2)
    assert ids(status="resolved") == ([a], 1)
    assert ids(severity="sev2") == ([c, b], 2)  # severities match case-insensitively
    assert ids(status="open", severity="SEV1") == ([], 0)


@pytest.mark.parametrize(
    ("status", "severity", "page", "field"),
    [("sleeping", None, 1, "status:"), (None, "SEV9", 1, "severity:"), (None, None, 0, "page:")],
)
def test_bad_page_requests_name_the_field(
    session: Session, status: str | None, severity: str | None, page: int, field: str
) -> None:
    with pytest.raises(InvalidInput, match=field):
        service.incident_page(session, status=status, severity=severity, page=page, per_page=50)
