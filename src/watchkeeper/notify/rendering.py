"""One rendering of a :class:`Message` per channel: console text, Slack, webhook, email."""

from __future__ import annotations

import html
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

from watchkeeper.notify.message import Message

# The generic webhook's payload schema; bump on an incompatible change (docs/notifications.md).
WEBHOOK_SCHEMA = "watchkeeper.notification/v1"
SLACK_URL_LIMIT = 3000


def console_text(message: Message) -> str:
    """The whole message as plain text: title, summary, every field and every link."""
    lines = [f"== {message.title} ==", f"kind: {message.kind}   urgency: {message.urgency}"]
    if message.summary:
        lines += ["", *message.summary.splitlines()]
    if message.fields:
        width = max(len(label) for label, _ in message.fields)
        lines += ["", *(f"{label.ljust(width)} : {value}" for label, value in message.fields)]
    if message.links:
        lines += ["", *(f"{label}: {url}" for label, url in message.links)]
    return "\n".join(lines) + "\n"


def _slack_escaped(text: str) -> str:
    """Text for Slack mrkdwn: &, < and > escaped as Slack requires (links stay buttons)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(message: Message) -> dict[str, Any]:
    """A Slack incoming-webhook body: ``text`` as the fallback, plus Block Kit blocks."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": message.title[:150]}}
    ]
    if message.summary:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escaped(message.summary)}}
        )
    if message.fields:
        # Slack allows at most 10 fields per section.
        for start in range(0, len(message.fields), 10):
            chunk = message.fields[start : start + 10]
            blocks.append(
                {
                    "type": "section",
                    "fields": [
                        {
                            "type": "mrkdwn",
                            "text": f"*{_slack_escaped(label)}*\n{_slack_escaped(value)}",
                        }
                        for label, value in chunk
                    ],
                }
            )
    # Slack refuses the whole message (HTTP 400) for a button whose url is not http(s) or is
    # longer than 3,000 characters: such links go in a text block instead.
    buttons = [(label, url) for label, url in message.links if _slack_button_url(url)]
    others = [(label, url) for label, url in message.links if not _slack_button_url(url)]
    if buttons:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": label[:75]},
                        "url": url,
                    }
                    for label, url in buttons[:25]
                ],
            }
        )
    if others:
        lines = "\n".join(
            f"{_slack_escaped(label)}: {_slack_escaped(url)}" for label, url in others
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": lines[:3000]}})
    text = message.title if not message.summary else f"{message.title}\n{message.summary}"
    return {"text": _slack_escaped(text), "blocks": blocks}


def _slack_button_url(url: str) -> bool:
    """Whether Slack takes ``url`` as a button's url: http(s) with a host, ≤ 3,000 chars."""
    parts = urlsplit(url)
    return len(url) <= SLACK_URL_LIMIT and parts.scheme in ("http", "https") and bool(parts.netloc)


def webhook_payload(message: Message, *, event_id: str, created_at: datetime) -> dict[str, Any]:
    """The generic webhook body (schema ``watchkeeper.notification/v1``)."""
    return {
        "schema": WEBHOOK_SCHEMA,
        "event_id": event_id,
        "kind": message.kind,
        "title": message.title,
        "summary": message.summary,
        "urgency": message.urgency,
        "fields": [{"label": label, "value": value} for label, value in message.fields],
        "links": [{"label": label, "url": url} for label, url in message.links],
        "alert_group_id": message.alert_group_id,
        "incident_id": message.incident_id,
        "created_at": created_at.isoformat(),
    }


def email_message(message: Message, *, sender: str, recipient: str) -> EmailMessage:
    """An email: subject = title, a text/plain body and a simple HTML alternative."""
    email = EmailMessage()
    email["Subject"] = " ".join(message.title.splitlines())
    email["From"] = sender
    email["To"] = recipient
    email.set_content(console_text(message))
    email.add_alternative(_html(message), subtype="html")
    return email


def _html(message: Message) -> str:
    parts = [f"<h2>{html.escape(message.title)}</h2>"]
    if message.summary:
        parts.append(f"<p>{html.escape(message.summary).replace(chr(10), '<br>')}</p>")
    if message.fields:
        rows = "".join(
            f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
            for label, value in message.fields
        )
        parts.append(f"<table>{rows}</table>")
    if message.links:
        items = "".join(
            f"<li><a href='{html.escape(url, quote=True)}'>{html.escape(label)}</a></li>"
            for label, url in message.links
        )
        parts.append(f"<ul>{items}</ul>")
    return "<html><body>" + "".join(parts) + "</body></html>\n"
