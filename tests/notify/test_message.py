"""The message contract and its renderings for console, Slack, webhook and email."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from watchkeeper.notify.message import KINDS, Message
from watchkeeper.notify.rendering import (
    WEBHOOK_SCHEMA,
    console_text,
    email_message,
    slack_payload,
    webhook_payload,
)

PAGE = Message(
    kind="page",
    title="[FIRING:3] HighErrorRate checkout",
    summary="Error rate above 5 %\nsince the last deploy",
    fields=(
        ("Service", "checkout"),
        ("Since", "2026-12-02 01:00 UTC"),
        ("Alerts", "3"),
        ("Budget left", "42.1 %"),
        ("Burn rate", "14.9x"),
    ),
    links=(
        ("Acknowledge", "https://wk.example/ack/abc"),
        ("Runbook", "https://runbooks.example/checkout"),
    ),
    alert_group_id=7,
)


def test_json_round_trip_keeps_every_field() -> None:
    data = json.loads(json.dumps(PAGE.to_json()))
    assert Message.from_json(data) == PAGE


texts = st.text(min_size=1, max_size=30).filter(str.strip)
pairs = st.lists(st.tuples(texts, texts), max_size=5).map(tuple)


@given(
    kind=st.sampled_from(KINDS),
    title=texts,
    summary=st.text(max_size=50),
    urgency=st.sampled_from(["high", "low"]),
    fields=pairs,
    links=pairs,
    group=st.none() | st.integers(min_value=1),
)
def test_any_message_survives_json(
    kind: str,
    title: str,
    summary: str,
    urgency: str,
    fields: tuple[tuple[str, str], ...],
    links: tuple[tuple[str, str], ...],
    group: int | None,
) -> None:
    message = Message(kind, title, summary, urgency, fields, links, group, None)
    assert Message.from_json(json.loads(json.dumps(message.to_json()))) == message


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"kind": "shout"}, "kind"), ({"urgency": "urgent"}, "urgency"), ({"title": " "}, "title")],
)
def test_invalid_messages_name_the_field(changes: dict[str, str], field: str) -> None:
    values = {"kind": "page", "title": "t", "summary": "", **changes}
    with pytest.raises(ValueError, match=field):
        Message(**values)  # type: ignore[arg-type]


def test_console_prints_the_whole_page() -> None:
    text = console_text(PAGE)
    for part in (
        PAGE.title,
        "since the last deploy",
        "Budget left : 42.1 %",
        "Burn rate   : 14.9x",
        "Acknowledge: https://wk.example/ack/abc",
        "Runbook: https://runbooks.example/checkout",
    ):
        assert part in text


def test_slack_has_a_fallback_text_and_blocks() -> None:
    payload = slack_payload(PAGE)
    assert payload["text"].startswith(PAGE.title)
    header, summary, fields, actions = payload["blocks"]
    assert header["text"]["text"] == PAGE.title
    assert "since the last deploy" in summary["text"]["text"]
    assert {"type": "mrkdwn", "text": "*Service*\ncheckout"} in fields["fields"]
    assert [e["url"] for e in actions["elements"]] == [url for _, url in PAGE.links]


def test_slack_splits_more_than_ten_fields() -> None:
    many = Message("notice", "t", "", fields=tuple((f"f{i}", str(i)) for i in range(12)))
    sections = [b for b in slack_payload(many)["blocks"] if "fields" in b]
    assert [len(s["fields"]) for s in sections] == [10, 2]


def test_webhook_payload_schema() -> None:
    created = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    payload = webhook_payload(PAGE, event_id="page-7-alice-1", created_at=created)
    assert payload["schema"] == WEBHOOK_SCHEMA
    assert payload["event_id"] == "page-7-alice-1"
    assert payload["fields"][0] == {"label": "Service", "value": "checkout"}
    assert payload["links"][1] == {"label": "Runbook", "url": "https://runbooks.example/checkout"}
    assert payload["alert_group_id"] == 7
    assert payload["incident_id"] is None
    assert payload["created_at"] == "2026-12-02T01:00:00+00:00"
    assert payload["urgency"] == "high"


def test_email_has_subject_text_and_html() -> None:
    email = email_message(PAGE, sender="wk@example.com", recipient="alice@example.com")
    assert email["Subject"] == PAGE.title
    assert email["To"] == "alice@example.com"
    plain = email.get_body(("plain",))
    html = email.get_body(("html",))
    assert plain is not None and html is not None
    assert "Burn rate" in plain.get_content()
    assert "https://runbooks.example/checkout" in html.get_content()
    assert "<th align='left'>Budget left</th>" in html.get_content()


def test_slack_text_is_escaped() -> None:
    message = Message(
        "notice", "p99 > 2s & rising", "latency <b>high</b>", fields=(("a<b", "x&y"),)
    )
    payload = slack_payload(message)
    assert payload["text"] == "p99 &gt; 2s &amp; rising\nlatency &lt;b&gt;high&lt;/b&gt;"
    assert payload["blocks"][0]["text"]["text"] == "p99 > 2s & rising"  # plain_text: as is
    assert payload["blocks"][2]["fields"][0]["text"] == "*a&lt;b*\nx&amp;y"


def test_only_http_links_slack_accepts_become_buttons() -> None:
    long_url = "https://runbooks.example/" + "x" * 3000
    message = Message(
        kind="page",
        title="t",
        summary="s",
        links=(
            ("Runbook", "https://runbooks.example/a"),
            ("Dashboard", "grafana://board/7"),
            ("Long", long_url),
        ),
    )
    blocks = slack_payload(message)["blocks"]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert [e["url"] for e in actions[0]["elements"]] == ["https://runbooks.example/a"]
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert any("Dashboard: grafana://board/7" in t for t in texts)
    assert all(len(t) <= 3000 for t in texts)
