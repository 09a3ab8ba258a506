"""Real HTTP receivers on loopback for notifier tests: signed webhooks and Slack-style hooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    """What a receiver saw, and what it answers next."""

    secret: str = ""
    answers: list[int] = field(default_factory=list)  # statuses to answer, then 200
    bodies: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    signatures_valid: list[bool] = field(default_factory=list)
    duplicates: int = 0
    # When given, requests wait until it is set (a receiver that times out meanwhile).
    release: threading.Event | None = None


def _handler(state: Received) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if state.release is not None and not state.release.is_set():
                state.release.wait(5)
                return  # the sender gave up long ago: answer nothing
            key = self.headers.get("Idempotency-Key", "")
            if state.secret:
                timestamp = self.headers.get("X-Watchkeeper-Timestamp", "")
                expected = hmac.new(
                    state.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
                ).hexdigest()
                given = self.headers.get("X-Watchkeeper-Signature", "")
                state.signatures_valid.append(hmac.compare_digest(given, f"sha256={expected}"))
            status = state.answers.pop(0) if state.answers else 200
            if status == 200:
                if key and key in state.keys:
                    state.duplicates += 1  # a receiver drops a repeat by its key
                else:
                    state.bodies.append(json.loads(body))
                    if key:
                        state.keys.append(key)
            payload = b"ok" if status == 200 else b"try later"
            self.send_response(status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests assert on the recorded state instead."""

    return Handler


@contextmanager
def receiver(state: Received) -> Iterator[str]:
    """Serve ``state``'s receiver on a free loopback port; yields its URL, stops it after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="test-receiver", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        if state.release is not None:
            state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
