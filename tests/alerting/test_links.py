"""Signed action links: bound to recipient, group and action; expire; GET confirms only."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.alerting.conftest import MakeIntegration, am_alert, am_message
from watchkeeper.alerting import links, repository
from watchkeeper.alerting.exceptions import InvalidActionLink
from watchkeeper.db import utcnow

NOW = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
SECRET = "s" * 32


def test_a_link_verifies_until_it_expires() -> None:
    url = links.action_url(
        secret=SECRET,
        base_url="https://wk.example/",
        group_id=7,
        action="ack",
        recipient="ann",
        expires_in=timedelta(hours=1),
        now=NOW,
    )
    assert url.startswith("https://wk.example/a/")
    token = url.rsplit("/", 1)[1]
    link = links.verify(token, secret=SECRET, now=NOW + timedelta(minutes=59))
    assert (link.group_id, link.action, link.recipient) == (7, "ack", "ann")
    with pytest.raises(InvalidActionLink, match="expired"):
        links.verify(token, secret=SECRET, now=NOW + timedelta(hours=1))


def test_a_tampered_or_foreign_link_is_refused() -> None:
    token = links.sign(
        secret=SECRET, group_id=7, action="ack", recipient="ann", expires_at=NOW + timedelta(1)
    )
    with pytest.raises(InvalidActionLink):
        links.verify(token, secret="another secret", now=NOW)
    payload, _, signature = token.rpartition(".")
    with pytest.raises(InvalidActionLink):
        links.verify(payload + "." + signature[::-1], secret=SECRET, now=NOW)
    # Another group, action or recipient means another signature: the token names all three.
    other = links.sign(
        secret=SECRET, group_id=8, action="ack", recipient="ann", expires_at=NOW + timedelta(1)
    )
    assert other != token
    with pytest.raises(InvalidActionLink, match="action"):
        links.sign(secret=SECRET, group_id=7, action="delete", recipient="ann", expires_at=NOW)


def test_get_shows_a_confirmation_and_post_acts_as_the_recipient(
    client: TestClient,
    make_integration: MakeIntegration,
    session_factory: sessionmaker[Session],
    viewer_headers: dict[str, str],
) -> None:
    key = make_integration()
    client.post(f"/api/v1/integrations/{key}/alertmanager", json=am_message(am_alert("a1")))
    [group] = client.get("/api/v1/alert-groups", headers=viewer_headers).json()
    with session_factory() as session:
        secret = links.link_secret(session, configured=None, now=utcnow())
        session.commit()
    url = links.action_url(
        secret=secret,
        base_url="http://testserver",
        group_id=group["id"],
        action="ack",
        recipient="ann@example.com",
        expires_in=timedelta(hours=1),
    )
    path = url.removeprefix("http://testserver")
    page = client.get(path)
    assert page.status_code == 200
    assert '<form method="post">' in page.text and "ann@example.com" in page.text
    status = client.get("/api/v1/alert-groups", headers=viewer_headers).json()[0]["status"]
    assert status == "firing"  # following the link did nothing
    done = client.post(path)
    assert done.status_code == 200
    assert re.search(r"is acknowledged", done.text)
    [after] = client.get("/api/v1/alert-groups", headers=viewer_headers).json()
    assert (after["status"], after["acknowledged_by"]) == ("acknowledged", "ann@example.com")
    forged = client.post(path[:-3] + "xyz")
    assert forged.status_code == 422 and "not valid" in forged.text


def test_the_generated_secret_is_made_once(session: Session) -> None:
    # db upgrade made it: the first page never inserts it, so concurrent first intakes
    # cannot both insert it.
    made = repository.secret(session, "action_links")
    assert made is not None and len(made.value) >= 48
    first = links.link_secret(session, configured=None, now=NOW)
    assert first == made.value
    assert links.link_secret(session, configured=None, now=NOW) == first
    assert links.link_secret(session, configured="from-settings", now=NOW) == "from-settings"


def test_one_signer_signs_many_links_that_verify_with_the_secret() -> None:
    signer = links.LinkSigner(SECRET)
    recipients = ["ann", "a.b@example.com", "équipe:ops", "x" * 200]
    for number, recipient in enumerate(recipients):
        token = signer.sign(
            group_id=number, action="resolve", recipient=recipient, expires_at=NOW + timedelta(1)
        )
        link = links.verify(token, secret=SECRET, now=NOW)
        assert (link.group_id, link.action, link.recipient) == (number, "resolve", recipient)
        assert link.expires_at == NOW + timedelta(1)


def test_a_token_whose_payload_is_changed_is_refused() -> None:
    token = links.sign(
        secret=SECRET, group_id=7, action="ack", recipient="ann", expires_at=NOW + timedelta(1)
    )
    payload, _, signature = token.rpartition(".")
    for forged in (payload.replace("7.", "8.", 1), payload.replace("ack", "resolve")):
        with pytest.raises(InvalidActionLink, match="not valid"):
            links.verify(f"{forged}.{signature}", secret=SECRET, now=NOW)
    with pytest.raises(InvalidActionLink, match="not valid"):
        links.verify("garbage", secret=SECRET, now=NOW)
