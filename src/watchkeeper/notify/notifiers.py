"""The Notifier protocol, its four implementations and the registry built from Settings.

Every network call has a timeout. HTTP receivers: a 4xx other than 408 and 429 is the
receiver refusing this message (not retryable); 5xx, 408, 429, timeouts and connection
errors may pass (retryable).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TextIO

import httpx2

from watchkeeper.config import Settings
from watchkeeper.notify.exceptions import DeliveryError
from watchkeeper.notify.message import Message
from watchkeeper.notify.rendering import (
    console_text,
    email_message,
    slack_payload,
    webhook_payload,
)

USER_AGENT = "Watchkeeper-Notifier/1"
SIGNATURE_HEADER = "X-Watchkeeper-Signature"
TIMESTAMP_HEADER = "X-Watchkeeper-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Delivery:
    """One attempt to hand a stored notification to its notifier."""

    notification_id: int
    channel: str
    address: str
    message: Message
    idempotency_key: str
    created_at: datetime
    attempt: int
    recipient: str | None = None


class Notifier(Protocol):
    """Sends one delivery; raises DeliveryError(message, retryable=...) when it cannot."""

    kind: str

    def send(self, delivery: Delivery) -> None:
        """Hand the delivery's message to its address."""
        ...


class ConsoleNotifier:
    """Prints the whole message to a text stream (stdout by default)."""

    kind = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def send(self, delivery: Delivery) -> None:
        """Write the message and flush."""
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            # Several people may read one console (the demo's does): say whose page it is.
            to = delivery.recipient or delivery.address
            stream.write(f"\n-- to {to} (console:{delivery.address}) --\n")
            stream.write(console_text(delivery.message))
            stream.flush()
        except (OSError, ValueError) as exc:  # a closed or broken stream
            raise DeliveryError(f"cannot write to the console: {exc}", retryable=True) from None


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` of ``"<timestamp>.<body>"``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def _post(client: httpx2.Client, url: str, *, body: bytes, headers: dict[str, str]) -> None:
    """POST ``body``; raise DeliveryError classified by what went wrong."""
    try:
        response = client.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
    except httpx2.TimeoutException as exc:
        raise DeliveryError(f"timed out: {type(exc).__name__}", retryable=True) from None
    except httpx2.HTTPError as exc:
        raise DeliveryError(
            f"cannot reach the receiver: {type(exc).__name__}: {exc}", retryable=True
        ) from None
    if response.is_success:
        return
    status = response.status_code
    excerpt = response.text[:200].strip()
    retryable = status >= 500 or status in (408, 429)
    raise DeliveryError(
        f"the receiver answered HTTP {status}" + (f": {excerpt}" if excerpt else ""),
        retryable=retryable,
    )


class SlackNotifier:
    """Posts to a Slack incoming-webhook URL (the notification's address)."""

    kind = "slack"

    def __init__(self, client: httpx2.Client) -> None:
        self._client = client

    def send(self, delivery: Delivery) -> None:
        """POST the Slack rendering of the message."""
        body = json.dumps(slack_payload(delivery.message)).encode()
        _post(self._client, delivery.address, body=body, headers={})


class WebhookNotifier:
    """Posts the generic JSON payload, signed with HMAC-SHA256, to the address."""

    kind = "webhook"

    def __init__(
        self, client: httpx2.Client, *, secret: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._secret = secret
        self._clock = clock

    def send(self, delivery: Delivery) -> None:
        """POST the payload with signature, timestamp and idempotency-key headers."""
        payload = webhook_payload(
            delivery.message, event_id=delivery.idempotency_key, created_at=delivery.created_at
        )
        body = json.dumps(payload, separators=(",", ":")).encode()
        timestamp = str(int(self._clock()))
        headers = {
            SIGNATURE_HEADER: signature(self._secret, timestamp, body),
            TIMESTAMP_HEADER: timestamp,
            IDEMPOTENCY_HEADER: delivery.idempotency_key,
        }
        _post(self._client, delivery.address, body=body, headers=headers)


@dataclass(frozen=True)
class SMTPConfig:
    """Where and how to send email."""

    host: str
    port: int
    sender: str
    username: str | None
    password: str | None
    starttls: bool
    timeout: float


class EmailNotifier:
    """Sends an email per delivery over SMTP (one connection per message)."""

    kind = "email"

    def __init__(self, config: SMTPConfig) -> None:
        self._config = config

    def send(self, delivery: Delivery) -> None:
        """Connect, optionally STARTTLS and log in, and send the message."""
        config = self._config
        email = email_message(delivery.message, sender=config.sender, recipient=delivery.address)
        try:
            with smtplib.SMTP(config.host, config.port, timeout=config.timeout) as smtp:
                if config.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if config.username:
                    smtp.login(config.username, config.password or "")
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"the SMTP server refused the recipient: {exc}", retryable=False
            ) from None
        except smtplib.SMTPResponseException as exc:
            # 5xx replies are permanent in SMTP (RFC 5321 §4.2.1); 4xx are transient.
            raise DeliveryError(
                f"the SMTP server answered {exc.smtp_code}: {exc.smtp_error!r}",
                retryable=exc.smtp_code < 500,
            ) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"cannot send through {config.host}:{config.port}: {type(exc).__name__}: {exc}",
                retryable=True,
            ) from None


def make_http_client(settings: Settings) -> httpx2.Client:
    """The HTTP client of the Slack and webhook notifiers, with the configured timeout."""
    return httpx2.Client(timeout=settings.notify_timeout_seconds, follow_redirects=False)


def notifiers(
    settings: Settings,
    *,
    console_stream: TextIO | None = None,
    http_client: httpx2.Client | None = None,
) -> Mapping[str, Notifier]:
    """The configured notifiers by kind (webhook needs a secret, email an SMTP host)."""
    client = http_client if http_client is not None else make_http_client(settings)
    registry: dict[str, Notifier] = {
        "console": ConsoleNotifier(console_stream),
        "slack": SlackNotifier(client),
    }
    if settings.webhook_secret is not None:
        registry["webhook"] = WebhookNotifier(
            client, secret=settings.webhook_secret.get_secret_value()
        )
    if settings.smtp_host:
        registry["email"] = EmailNotifier(
            SMTPConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                username=settings.smtp_username,
                password=(
                    settings.smtp_password.get_secret_value()
                    if settings.smtp_password is not None
                    else None
                ),
                starttls=settings.smtp_starttls,
                timeout=settings.notify_timeout_seconds,
            )
        )
    return registry


UNCONFIGURED: dict[str, str] = {
    "webhook": "set WATCHKEEPER_WEBHOOK_SECRET to sign webhook notifications",
    "email": "set WATCHKEEPER_SMTP_HOST (and WATCHKEEPER_SMTP_FROM) to send email",
}


def unconfigured_reason(kind: str) -> str:
    """Why no notifier of ``kind`` is available."""
    hint = UNCONFIGURED.get(kind)
    if hint is not None:
        return f"the {kind} notifier is not configured: {hint}"
    return f"no notifier for channel {kind!r}"
