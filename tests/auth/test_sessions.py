"""Browser sessions: sign-in, idle and absolute expiry, password changes, throttling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from watchkeeper.auth import people, sessions
from watchkeeper.auth.exceptions import InvalidUser, SignInFailed, SignInThrottled
from watchkeeper.auth.sessions import LimitRules, SessionRules

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "fifteen chars at least"
RULES = SessionRules(lifetime=timedelta(hours=12), idle=timedelta(hours=2))
LIMITS = LimitRules(per_name=3, per_address=5, interval=timedelta(minutes=15))


@pytest.fixture
def alex(session: Session) -> None:
    people.create_user(session, name="alex", role="responder", now=AT)
    sessions.set_password(session, name="alex", password=PASSWORD, now=AT)


def sign_in(
    session: Session, password: str = PASSWORD, *, at: datetime = AT, address: str = "10.0.0.1"
) -> sessions.IssuedSession:
    return sessions.sign_in(
        session,
        name="alex",
        password=password,
        address=address,
        user_agent="test",
        now=at,
        rules=RULES,
        limits=LIMITS,
    )


def fail(session: Session, *, at: datetime, address: str = "10.0.0.1") -> None:
    with pytest.raises(SignInFailed):
        sign_in(session, "wrong password!", at=at, address=address)
    sessions.record_failure(session, name="alex", address=address, now=at)


def test_passwords_shorter_than_15_characters_are_refused(session: Session, alex: None) -> None:
    with pytest.raises(InvalidUser, match="at least 15 characters"):
        sessions.set_password(session, name="alex", password="x" * 14, now=AT)


def test_a_session_slides_with_use_until_its_lifetime(session: Session, alex: None) -> None:
    issued = sign_in(session)
    assert issued.expires_at == AT + timedelta(hours=2)
    at = AT
    for _ in range(5):  # a request every 110 minutes keeps it alive...
        at += timedelta(minutes=110)
        assert sessions.current(session, secret=issued.secret, now=at, rules=RULES) is not None
    at += timedelta(minutes=110)  # 10 h 10 min... 11 h 0 min
    assert sessions.current(session, secret=issued.secret, now=at, rules=RULES) is not None
    # ...but never past 12 hours after sign-in.
    late = AT + timedelta(hours=12)
    assert sessions.current(session, secret=issued.secret, now=late, rules=RULES) is None


def test_a_session_ends_after_idle_time(session: Session, alex: None) -> None:
    issued = sign_in(session)
    idle = AT + timedelta(hours=2)
    assert sessions.current(session, secret=issued.secret, now=idle, rules=RULES) is None


def test_a_password_change_and_sign_out_end_sessions(session: Session, alex: None) -> None:
    first, second = sign_in(session), sign_in(session)
    assert first.secret != second.secret and first.csrf_token != second.csrf_token
    sessions.sign_out(session, secret=first.secret)
    assert sessions.current(session, secret=first.secret, now=AT, rules=RULES) is None
    assert sessions.current(session, secret=second.secret, now=AT, rules=RULES) is not None
    sessions.set_password(session, name="alex", password="another long password", now=AT)
    assert sessions.current(session, secret=second.secret, now=AT, rules=RULES) is None


def test_unknown_and_oversized_secrets_find_no_one(session: Session, alex: None) -> None:
    assert sessions.current(session, secret="", now=AT, rules=RULES) is None
    assert sessions.current(session, secret="x" * 10_000, now=AT, rules=RULES) is None


def test_throttling_lasts_until_the_oldest_failure_ages_out(session: Session, alex: None) -> None:
    for minute in (0, 1, 2):
        fail(session, at=AT + timedelta(minutes=minute))
    with pytest.raises(SignInThrottled) as blocked:
        sign_in(session, at=AT + timedelta(minutes=5))
    # The oldest failure (minute 0) stops counting at minute 15: 10 minutes from minute 5.
    assert blocked.value.retry_after == 600
    assert blocked.value.status_code == 429
    issued = sign_in(session, at=AT + timedelta(minutes=15))
    assert issued.user.name == "alex"


def test_failures_from_one_address_throttle_every_name(session: Session, alex: None) -> None:
    people.create_user(session, name="sam", role="viewer", now=AT)
    for minute in range(5):
        with pytest.raises(SignInFailed):
            sessions.sign_in(
                session,
                name=f"guess{minute}",
                password="nope nope nope nope",
                address="203.0.113.9",
                user_agent="",
                now=AT,
                rules=RULES,
                limits=LIMITS,
            )
        sessions.record_failure(session, name=f"guess{minute}", address="203.0.113.9", now=AT)
    with pytest.raises(SignInThrottled):
        sign_in(session, at=AT + timedelta(minutes=1), address="203.0.113.9")
    assert sign_in(session, at=AT + timedelta(minutes=1), address="10.0.0.2").user.name == "alex"
