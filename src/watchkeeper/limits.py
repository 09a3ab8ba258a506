"""Request body limits, enforced before any endpoint reads or parses a body.

:class:`BodySizeLimit` is an ASGI middleware: a request whose ``Content-Length`` passes the
limit of its path is answered 413 without reading a byte of its body; a body sent without a
length (chunked) is counted while it streams, and the read that passes the limit raises
:class:`~watchkeeper.errors.PayloadTooLarge`, which the app's error handler answers with 413.
Endpoints then read bodies with :func:`read_body`, which never holds more than the limit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from watchkeeper.errors import InvalidInput, PayloadTooLarge

LimitFor = Callable[[str], int]


def limit_by_prefix(prefixes: Mapping[str, int], default: int) -> LimitFor:
    """A limit lookup: the longest matching path prefix wins, else ``default``."""
    ordered = sorted(prefixes.items(), key=lambda item: len(item[0]), reverse=True)

    def limit_for(path: str) -> int:
        for prefix, limit in ordered:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return limit
        return default

    return limit_for


def _too_large(size: int | str, limit: int, path: str) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"request body of {size} bytes is over the {limit:,} byte limit for {path}",
        extra={"limit_bytes": limit},
    )


class BodySizeLimit:
    """ASGI middleware refusing request bodies over the limit of their path with 413."""

    def __init__(self, app: ASGIApp, *, limit_for: LimitFor) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.limit_for(path)
        declared = _content_length(scope)
        if declared is not None and not (declared.isascii() and declared.isdigit()):
            await _send_error(send, 400, InvalidInput(f"invalid Content-Length {declared!r}"))
            return
        if declared and int(declared) > limit:
            await _send_error(send, 413, _too_large(declared, limit, path))
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(f"more than {limit:,}", limit, path)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return str(value.decode("latin-1").strip())
    return None


async def _send_error(send: Send, status: int, error: Any) -> None:
    body = json.dumps(error.to_dict()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                # The unread body stays on the wire: this connection is not reused.
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def read_body(request: Request) -> bytes:
    """The request body, read in chunks and refused (413) as soon as it passes its path's limit."""
    limit_for: LimitFor = request.app.state.body_limit
    limit = limit_for(request.url.path)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"more than {limit:,}", limit, request.url.path)
        chunks.append(chunk)
    return b"".join(chunks)
