"""Pages of alert groups for the dashboard, groups by id, and a silence's comment."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests.incident.conftest import NOW, fire
from watchkeeper.alerting import service
from watchkeeper.alerting.exceptions import InvalidSilence
from watchkeeper.errors import InvalidInput


def test_pages_are_newest_first_with_the_total(session: Session) -> None:
    ids = [fire(session, f"alert {n}", at=NOW + timedelta(minutes=n)) for n in range(5)]
    service.resolve(session, group_id=ids[0], actor="ann", now=NOW + timedelta(hours=1))
    first, total = service.group_page(session, statuses=None, page=1, per_page=2)
    assert ([g.id for g in first], total) == ([ids[4], ids[3]], 5)
    last, _ = service.group_page(session, statuses=None, page=3, per_page=2)
    assert [g.id for g in last] == [ids[0]]
    open_groups, open_total = service.group_page(
        session, statuses=service.OPEN_STATUSES, page=1, per_page=10
    )
    assert ([g.id for g in open_groups], open_total) == (list(reversed(ids[1:])), 4)
    resolved, _ = service.group_page(session, statuses=["resolved"], page=1, per_page=10)
    assert [g.id for g in resolved] == [ids[0]]
    beyond, total = service.group_page(session, statuses=None, page=9, per_page=2)
    assert (beyond, total) == ([], 5)


@pytest.mark.parametrize(
    ("statuses", "page", "field"), [(["sleeping"], 1, "status:"), (None, 0, "page:")]
)
def test_bad_page_requests_name_the_field(
    session: Session, statuses: list[str] | None, page: int, field: str
) -> None:
    with pytest.raises(InvalidInput, match=field):
        service.group_page(session, statuses=statuses, page=page, per_page=50)


def test_groups_with_ids_leave_unknown_ids_out(session: Session) -> None:
    ids = [fire(session, f"alert {n}") for n in range(3)]
    found = service.groups_with_ids(session, group_ids=[ids[2], ids[0], 999_999])
    assert [g.id for g in found] == [ids[0], ids[2]]
    assert service.groups_with_ids(session, group_ids=[]) == []


def test_a_silence_comment_is_logged_and_bounded(session: Session) -> None:
    group_id = fire(session, "alert")
    until = NOW + timedelta(hours=2)
    with pytest.raises(InvalidSilence, match="comment:"):
        service.silence(
            session, group_id=group_id, until=until, actor="ann", now=NOW, comment="x" * 4001
        )
    service.silence(
        session, group_id=group_id, until=until, actor="ann", now=NOW, comment=" deploy "
    )
    entry = service.group_detail(session, group_id=group_id)["log"][-1]
    assert entry["message"] == f"silenced until {until.isoformat()}: deploy"
    assert entry["details"] == {"comment": "deploy"}
