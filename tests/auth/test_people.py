"""Users, contact methods and notification rules, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from watchkeeper.auth import people
from watchkeeper.auth.exceptions import InvalidUser, LastAdmin, UserNameTaken, UserNotFound
from watchkeeper.notify import service as notify_service

NOW = datetime(2026, 3, 1, tzinfo=UTC)


def test_create_with_email_adds_an_email_contact(session: Session) -> None:
    people.create_user(
        session,
        name="ann",
        role="editor",
        email="ann@example.com",
        time_zone="Europe/Paris",
        now=NOW,
    )
    profile = people.profile(session, name="ann")
    assert (profile.user.role, profile.user.time_zone) == ("editor", "Europe/Paris")
    assert [(c.kind, c.address) for c in profile.contacts] == [("email", "ann@example.com")]
    with pytest.raises(UserNameTaken):
        people.create_user(session, name="ann", role="viewer", now=NOW)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "Ann"}, "name:"),
        ({"name": "-ann"}, "name:"),
        ({"name": "a" * 65}, "name:"),
        ({"role": "ingest"}, "role:"),
        ({"time_zone": "Mars/Base"}, "time_zone:"),
        ({"email": "not-an-address"}, "address:"),
    ],
)
def test_bad_user_fields_are_named(session: Session, kwargs: dict[str, str], field: str) -> None:
    values = {"name": "ann", "role": "editor", **kwargs}
    with pytest.raises(InvalidUser) as caught:
        people.create_user(session, now=NOW, **values)  # type: ignore[arg-type]
    assert caught.value.detail.startswith(field)


@pytest.mark.parametrize(
    ("kind", "address", "ok"),
    [
        ("slack", "https://hooks.slack.com/services/T/B/X", True),
        ("slack", "ftp://hooks.example", False),
        ("webhook", "http://10.0.0.1:8080/page", True),
        ("webhook", "not a url", False),
        ("console", "ops-room", True),
        ("pager", "123", False),
    ],
)
def test_contact_addresses_are_checked_per_kind(
    session: Session, kind: str, address: str, ok: bool
) -> None:
    people.create_user(session, name="ann", role="editor", now=NOW)
    if ok:
        contact = people.add_contact(session, name="ann", kind=kind, address=address, now=NOW)
        assert contact.kind == kind
    else:
        with pytest.raises(InvalidUser):
            people.add_contact(session, name="ann", kind=kind, address=address, now=NOW)


def test_rules_choose_contacts_by_urgency(session: Session) -> None:
    people.create_user(session, name="ann", role="editor", email="ann@example.com", now=NOW)
    people.create_user(session, name="bob", role="editor", email="bob@example.com", now=NOW)
    slack = people.add_contact(
        session, name="ann", kind="slack", address="https://hooks.example/ann", now=NOW
    )
    email = people.profile(session, name="ann").contacts[0]
    people.add_rule(
        session, name="ann", contact_id=slack.id, urgency="high", delay=timedelta(0), now=NOW
    )
    people.add_rule(
        session,
        name="ann",
        contact_id=email.id,
        urgency="high",
        delay=timedelta(minutes=5),
        now=NOW,
    )
    high = people.deliveries(session, names=["ann", "bob"], urgency="high")
    assert [(d.user, d.kind, d.delay) for d in high] == [
        ("ann", "slack", timedelta(0)),
        ("ann", "email", timedelta(minutes=5)),
        ("bob", "email", timedelta(0)),  # no rules: every contact at once
    ]
    assert [d.user for d in people.deliveries(session, names=["ann", "bob"], urgency="low")] == [
        "bob"
    ]
    with pytest.raises(UserNotFound):
        people.add_rule(
            session, name="bob", contact_id=slack.id, urgency="high", delay=timedelta(0), now=NOW
        )
    with pytest.raises(InvalidUser):
        people.add_rule(
            session, name="ann", contact_id=slack.id, urgency="urgent", delay=timedelta(0), now=NOW
        )


def test_delete_and_did_you_mean(session: Session) -> None:
    people.create_user(session, name="annabel", role="viewer", email="a@example.com", now=NOW)
    with pytest.raises(UserNotFound, match="did you mean 'annabel'"):
        people.get_user(session, name="anabel")
    people.delete_user(session, name="annabel")
    assert people.list_users(session) == []
    assert people.missing_users(session, names=["annabel"]) == ["annabel"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", timedelta(0)),
        ("0m", timedelta(0)),
        (" 0s ", timedelta(0)),
        ("5m", timedelta(minutes=5)),
    ],
)
def test_a_rule_delay_is_zero_or_a_duration(text: str, expected: timedelta) -> None:
    assert people.parse_delay(text) == expected


def test_a_bad_rule_delay_names_the_field() -> None:
    with pytest.raises(InvalidUser, match=r"^delay: "):
        people.parse_delay("soon")


@pytest.mark.parametrize(
    ("kind", "address"),
    [("email", "a,b@example.com"), ("email", "a;b@example.com"), ("slack", "ftp://h.example/a")],
)
def test_a_contact_address_notify_would_refuse_is_refused(kind: str, address: str) -> None:
    with pytest.raises(InvalidUser, match=r"^address: "):
        people.validate_address(kind, address)


def test_contact_kinds_are_the_channels_notify_sends_to() -> None:
    assert {k.value for k in people.ContactKind} == set(notify_service.CHANNELS)


def test_set_role_changes_a_role_but_never_removes_the_last_admin(session: Session) -> None:
    people.create_user(session, name="ann", role="admin", now=NOW)
    people.create_user(session, name="bob", role="viewer", now=NOW)
    with pytest.raises(LastAdmin, match="only admin"):
        people.set_role(session, name="ann", role="editor")
    assert people.set_role(session, name="bob", role="admin").role == "admin"
    assert people.set_role(session, name="ann", role="responder").role == "responder"
    with pytest.raises(LastAdmin):
        people.set_role(session, name="bob", role="viewer")
    with pytest.raises(InvalidUser, match="role:"):
        people.set_role(session, name="ann", role="ingest")
    with pytest.raises(UserNotFound):
        people.set_role(session, name="nobody", role="viewer")
