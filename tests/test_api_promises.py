"""The promises every write path keeps.

A 2xx only after the commit (a commit that fails answers 5xx in the error shape and stores
nothing); authentication and size limits before a body is read; database failures answered in
the JSON error shape. Commit failures are made real with deferred constraints that the
database checks at COMMIT, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx2
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from tests.live_server import serving
from watchkeeper.app import create_app
from watchkeeper.auth import service as auth_service
from watchkeeper.auth.models import APIToken
from watchkeeper.config import Settings
from watchkeeper.db import make_engine, utcnow
from watchkeeper.dependencies import get_session
from watchkeeper.events.models import SLIBucket
from watchkeeper.migrate import upgrade_to_head
from watchkeeper.slo.models import SLORecord
from watchkeeper.web.access import SESSION_COOKIE

SPEC = """\
apiVersion: watchkeeper/v1
kind: ServiceLevels
service: shop
slos:
  - name: availability
    objective: 0.99
    window: 7d
    sli: {name: shop-requests, kind: ratio}
"""
EVENTS = {
    "events": [{"time": "2026-11-23T10:00:00Z", "sli": "shop-requests", "good": 9, "total": 10}]
}


def _issue_token(engine: Engine, role: str = "admin") -> dict[str, str]:
    with Session(engine) as session:
        issued = auth_service.create(
            session, name=f"{role}-{uuid.uuid4().hex[:6]}", role=role, now=utcnow()
        )
        session.commit()
    return {"Authorization": f"Bearer {issued.token}"}


def _app(engine: Engine, tmp_path: Path, **overrides: object) -> FastAPI:
    settings = Settings(data_dir=tmp_path, run_worker_in_process=False, **overrides)  # type: ignore[arg-type]
    return create_app(settings, engine=engine)


def _refuse_commits_after(engine: Engine, table: str, operation: str) -> None:
    """Make every transaction that runs ``operation`` on ``table`` fail at COMMIT."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            # A deferred foreign key that can never be satisfied: checked at COMMIT.
            connection.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS guard_target (id INTEGER PRIMARY KEY)"
            )
            connection.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS guard (id INTEGER PRIMARY KEY, ref INTEGER "
                "REFERENCES guard_target (id) DEFERRABLE INITIALLY DEFERRED)"
            )
            connection.exec_driver_sql(
                f"CREATE TRIGGER guard_{table} AFTER {operation} ON {table} "
                "BEGIN INSERT INTO guard (ref) VALUES (-1); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql "
                "AS $$ BEGIN RAISE EXCEPTION 'refused at commit'; END $$"
            )
            connection.exec_driver_sql(
                f"CREATE CONSTRAINT TRIGGER guard_{table} AFTER {operation} ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()"
            )


def _used_tokens(engine: Engine) -> int:
    with Session(engine) as session:
        used = select(func.count()).where(APIToken.last_used_at.is_not(None))
        return session.scalar(used) or 0


def _count(engine: Engine, model: type[object]) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[arg-type]


@pytest.fixture
def client_on(committing_engine: Engine, tmp_path: Path) -> Iterator[TestClient]:
    """A client of an app on a database that really commits; server errors become answers."""
    with TestClient(_app(committing_engine, tmp_path), raise_server_exceptions=False) as client:
        yield client


# -- a 2xx means committed ---------------------------------------------------------------


def test_events_whose_commit_fails_get_a_5xx_and_nothing_is_stored(
    committing_engine: Engine, client_on: TestClient
) -> None:
    headers = _issue_token(committing_engine)
    assert client_on.post("/api/v1/slos", content=SPEC, headers=headers).status_code == 200
    _refuse_commits_after(committing_engine, "sli_bucket", "INSERT")

    response = client_on.post("/api/v1/events", json=EVENTS, headers=headers)

    assert response.status_code == 500
    assert response.json()["error"] == "StorageFailed"
    assert "nothing was stored" in response.json()["detail"]
    assert _count(committing_engine, SLIBucket) == 0
    registry = client_on.app.state.metrics.registry  # type: ignore[attr-defined]
    assert registry.get_sample_value("watchkeeper_events_ingested_total") == 0


def test_an_slo_apply_whose_commit_fails_gets_a_5xx(
    committing_engine: Engine, client_on: TestClient
) -> None:
    headers = _issue_token(committing_engine)
    _refuse_commits_after(committing_engine, "slo", "INSERT")

    response = client_on.post("/api/v1/slos", content=SPEC, headers=headers)

    assert response.status_code == 500
    assert response.json()["error"] == "StorageFailed"
    assert _count(committing_engine, SLORecord) == 0


def test_a_delete_whose_commit_fails_gets_a_5xx_and_the_slo_stays(
    committing_engine: Engine, client_on: TestClient
) -> None:
    headers = _issue_token(committing_engine)
    assert client_on.post("/api/v1/slos", content=SPEC, headers=headers).status_code == 200
    _refuse_commits_after(committing_engine, "slo", "DELETE")

    response = client_on.delete("/api/v1/slos/shop/availability", headers=headers)

    assert response.status_code == 500
    assert _count(committing_engine, SLORecord) == 1


def test_a_full_sqlite_disk_is_a_503_in_the_error_shape(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'full.db'}")
    upgrade_to_head(engine)
    headers = _issue_token(engine)
    app = _app(engine, tmp_path)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/api/v1/slos", content=SPEC, headers=headers).status_code == 200
        with engine.connect() as connection:
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
        # Every new connection sees a database that may not grow: the disk is "full".
        event.listen(
            engine,
            "connect",
            lambda dbapi, _record: dbapi.execute(f"PRAGMA max_page_count = {pages}"),
        )
        engine.dispose()
        many = {
            "events": [
                {"time": 1_795_428_000 + 60 * i, "sli": "shop-requests", "good": 1, "total": 1}
                for i in range(5000)
            ]
        }
        response = client.post("/api/v1/events", json=many, headers=headers)
    assert response.status_code == 503
    assert response.json()["error"] == "Unavailable"
    assert "full" in response.json()["detail"]
    engine.dispose()
    assert _count(make_engine(f"sqlite:///{tmp_path / 'full.db'}"), SLIBucket) == 0


def test_rows_are_visible_the_moment_the_2xx_arrives(
    committing_engine: Engine, tmp_path: Path
) -> None:
    headers = _issue_token(committing_engine)
    with serving(_app(committing_engine, tmp_path)) as base, httpx2.Client(base_url=base) as http:
        assert http.post("/api/v1/slos", content=SPEC, headers=headers).status_code == 200
        for minute in range(20):
            body = {
                "events": [
                    {
                        "time": 1_795_428_000 + 60 * minute,
                        "sli": "shop-requests",
                        "good": 1,
                        "total": 2,
                    }
                ]
            }
            assert http.post("/api/v1/events", json=body, headers=headers).status_code == 200
            assert _count(committing_engine, SLIBucket) == minute + 1


def _api_routes(routes: list[object]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        nested = getattr(route, "original_router", None)  # an included router
        if nested is not None:
            yield from _api_routes(list(nested.routes))


def _dependencies(dependant: object) -> Iterator[object]:
    for child in getattr(dependant, "dependencies", []):
        yield child
        yield from _dependencies(child)


def test_every_request_session_commits_before_the_response(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'routes.db'}")
    app = _app(engine, tmp_path)
    sessions = 0
    for route in _api_routes(list(app.routes)):
        for dependency in _dependencies(route.dependant):
            if getattr(dependency, "call", None) is get_session:
                sessions += 1
                assert getattr(dependency, "scope", None) == "function", route.path
    assert sessions > 5
    engine.dispose()


# -- authentication and limits before the body ---------------------------------------------


def test_no_endpoint_lets_the_framework_parse_its_body_before_authentication(
    tmp_path: Path,
) -> None:
    # FastAPI reads and decodes declared body parameters before it resolves dependencies, so
    # bodies are read by dependencies that depend on the token (dependencies.json_body).
    engine = make_engine(f"sqlite:///{tmp_path / 'routes.db'}")
    routes = list(_api_routes(list(_app(engine, tmp_path).routes)))
    assert any(route.path == "/api/v1/tokens" and "POST" in route.methods for route in routes)
    assert [route.path for route in routes if route.dependant.body_params] == []
    engine.dispose()


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/slos", "slos: [unterminated"),
        ("PUT", "/api/v1/slos/shop/availability", "{not: yaml: at all"),
        ("POST", "/api/v1/events", "{not json"),
    ],
)
def test_requests_without_a_token_are_refused_before_the_body_is_parsed(
    client: TestClient, method: str, path: str, body: str
) -> None:
    response = client.request(method, path, content=body)
    assert response.status_code == 401
    assert response.json()["error"] == "MissingToken"


def test_a_bad_token_is_refused_before_the_body_is_parsed(client: TestClient) -> None:
    response = client.post(
        "/api/v1/slos", content="[[[", headers={"Authorization": "Bearer wk_nope"}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "InvalidToken"


def test_a_viewer_may_not_send_specs_whatever_the_body(
    client: TestClient, viewer_headers: dict[str, str]
) -> None:
    response = client.post("/api/v1/slos", content="[[[", headers=viewer_headers)
    assert response.status_code == 403


def test_a_spec_over_the_size_limit_is_413_from_its_length(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    body = SPEC + "#" * settings.max_body_bytes
    response = client.post("/api/v1/slos", content=body, headers=admin_headers)
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"
    assert f"{settings.max_body_bytes:,} byte limit" in response.json()["detail"]


def test_a_streamed_spec_over_the_size_limit_is_413(
    client: TestClient, admin_headers: dict[str, str], settings: Settings
) -> None:
    chunk = b"#" * 65_536
    sent = []

    def chunks() -> Iterator[bytes]:
        for _ in range(settings.max_body_bytes // len(chunk) + 2):
            sent.append(len(chunk))
            yield chunk

    response = client.post("/api/v1/slos", content=chunks(), headers=admin_headers)
    assert response.status_code == 413
    assert response.json()["error"] == "PayloadTooLarge"


def _raw_request(base: str, head: str, body: bytes = b"", *, read_timeout: float = 5) -> str:
    """Send a request head (and some body) on a raw socket; the status line and headers back."""
    address = urlsplit(base)
    with socket.create_connection((address.hostname, address.port), timeout=read_timeout) as sock:
        sock.sendall(head.encode() + b"\r\n" + body)
        received = b""
        while b"\r\n\r\n" not in received:
            data = sock.recv(65_536)
            if not data:
                break
            received += data
    return received.decode("latin-1")


def test_a_huge_unauthenticated_body_is_refused_without_being_read(
    committing_engine: Engine, tmp_path: Path
) -> None:
    with serving(_app(committing_engine, tmp_path)) as base:
        started = time.monotonic()
        answer = _raw_request(
            base,
            "POST /api/v1/slos HTTP/1.1\r\nHost: test\r\nContent-Type: application/yaml\r\n"
            "Content-Length: 300000000\r\n",
        )
        assert answer.startswith("HTTP/1.1 413")
        # Chunked: no length to check, so the token is checked before any of it is read.
        chunked = _raw_request(
            base,
            "POST /api/v1/slos HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n",
            b"10000\r\n" + b"#" * 65_536 + b"\r\n",
        )
        assert chunked.startswith("HTTP/1.1 401")
        assert time.monotonic() - started < 5


def test_a_body_that_never_finishes_holds_no_lock_or_connection(
    committing_engine: Engine, tmp_path: Path
) -> None:
    admin = _issue_token(committing_engine)
    fresh = _issue_token(committing_engine, "ingest")  # its first use records its last use
    other = _issue_token(committing_engine, "ingest")
    with serving(_app(committing_engine, tmp_path)) as base, httpx2.Client(base_url=base) as http:
        assert http.post("/api/v1/slos", content=SPEC, headers=admin).status_code == 200
        address = urlsplit(base)
        stalled = []
        for _ in range(3):  # each: the head and the first byte of a body that never ends
            sock = socket.create_connection((address.hostname, address.port), timeout=5)
            sock.sendall(
                b"POST /api/v1/events HTTP/1.1\r\nHost: test\r\n"
                + f"Authorization: {fresh['Authorization']}\r\n".encode()
                + b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"1\r\n[\r\n"
            )
            stalled.append(sock)
        try:
            # The stalled requests' token has been checked (and its first use recorded).
            _wait_for(lambda: _used_tokens(committing_engine) == 2)
            # Neither the same token nor another waits on what the stalled requests hold.
            for headers in (fresh, other):
                started = time.monotonic()
                response = http.post("/api/v1/events", json=EVENTS, headers=headers)
                assert response.status_code == 200, response.text
                assert time.monotonic() - started < 2
        finally:
            for sock in stalled:
                sock.close()
    assert _count(committing_engine, SLIBucket) == 1


@pytest.mark.parametrize("length", [b"12abc", b"\xc2\xb2", b"", b"-1"])
def test_a_malformed_content_length_is_400(client: TestClient, length: bytes) -> None:
    # The test client would fix the header; send the request as an ASGI scope directly.
    app = client.app
    messages: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/slos",
        "raw_path": b"/api/v1/slos",
        "query_string": b"",
        "headers": [(b"content-length", length)],
        "http_version": "1.1",
        "scheme": "http",
        "server": ("test", 80),
        "client": ("test", 1),
        "root_path": "",
    }
    anyio.run(app, scope, receive, send)  # type: ignore[arg-type]
    assert messages[0]["status"] == 400
    assert json.loads(messages[1]["body"])["error"] == "InvalidInput"  # type: ignore[arg-type]


# -- database failures ----------------------------------------------------------------------


@pytest.fixture
def unreachable_database(tmp_path: Path) -> Iterator[TestClient]:
    """An app whose PostgreSQL does not answer (nothing listens on the port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test")
    app = _app(engine, tmp_path)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    engine.dispose()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/gate?service=checkout"),
        ("GET", "/api/v1/slos"),
        ("POST", "/api/v1/events"),
    ],
)
def test_an_unreachable_database_is_a_json_503(
    unreachable_database: TestClient, method: str, path: str
) -> None:
    response = unreachable_database.request(
        method, path, headers={"Authorization": "Bearer wk_anything"}, json=EVENTS
    )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == "Unavailable"
    assert response.json()["detail"].startswith("database unavailable")


def test_healthz_answers_while_the_database_is_down(unreachable_database: TestClient) -> None:
    assert unreachable_database.get("/healthz").json() == {"status": "ok"}
    assert unreachable_database.get("/readyz").status_code == 503
    # The status page is a page even then: it says what is wrong, in HTML.
    unreachable_database.cookies.set(SESSION_COOKIE, "a session value")
    page = unreachable_database.get("/")
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="error-banner"' in page.text and "database unavailable" in page.text


def test_an_unexpected_failure_is_a_json_500(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'boom.db'}")
    app = _app(engine, tmp_path)

    def explode() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", explode)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "error": "InternalError",
        "detail": "internal error; see the server log",
    }
    engine.dispose()


# -- hostile specs cannot stall the server -------------------------------------------------


def _wait_for(condition: Callable[[], bool], deadline: float = 10.0) -> None:
    """Poll ``condition`` until it holds (failing after ``deadline`` seconds)."""
    give_up = time.monotonic() + deadline
    while not condition():
        assert time.monotonic() < give_up, "condition not met in time"
        time.sleep(0.01)


def _alias_bomb(levels: int, fan_out: int = 10) -> str:
    """Anchors referencing anchors: ``fan_out ** levels`` nodes once expanded."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * fan_out)}]"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * fan_out)
        lines.append(f"l{level}: &l{level} [{refs}]")
    return "\n".join(lines)


def _merge_bomb(levels: int, fan_out: int = 10) -> str:
    """Merge keys merging anchors that merge anchors: exponential once flattened."""
    lines = ["m0: &m0 {a: 1, b: 2}"]
    for level in range(1, levels + 1):
        refs = ", ".join([f"*m{level - 1}"] * fan_out)
        lines.append(f"m{level}: &m{level} {{<<: [{refs}], k{level}: {level}}}")
    return "\n".join(lines)


def _bomb_spec(bomb: str) -> str:
    """A valid SLO spec with the bomb in its labels, where any mapping is read."""
    labels = "\n".join("      " + line.strip() for line in bomb.splitlines())
    return SPEC.replace("    objective: 0.99\n", f"    objective: 0.99\n    labels:\n{labels}\n")


@pytest.mark.parametrize(
    "bomb",
    [_alias_bomb(6), _alias_bomb(7), _merge_bomb(6), _merge_bomb(7)],
    ids=["aliases-6", "aliases-7", "merge-keys-6", "merge-keys-7"],
)
def test_a_spec_bomb_is_refused_quickly_while_healthz_keeps_answering(
    committing_engine: Engine, tmp_path: Path, bomb: str
) -> None:
    body = _bomb_spec(bomb)
    assert len(body.encode()) < 1024
    headers = {**_issue_token(committing_engine), "Content-Type": "application/yaml"}
    latencies: list[float] = []
    answered: list[float] = []  # when each health check was answered
    stop = threading.Event()

    with serving(_app(committing_engine, tmp_path)) as base:

        def poll() -> None:
            with httpx2.Client(base_url=base, timeout=10) as http:
                while not stop.is_set():
                    began = time.monotonic()
                    assert http.get("/healthz").status_code == 200
                    latencies.append(time.monotonic() - began)
                    answered.append(time.monotonic())
                    time.sleep(0.01)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            with httpx2.Client(base_url=base, timeout=30) as http:
                _wait_for(lambda: len(latencies) >= 3)
                started = time.monotonic()
                response = http.post("/api/v1/slos", content=body, headers=headers)
                elapsed = time.monotonic() - started
                polled = len(latencies)
                _wait_for(lambda: len(latencies) >= polled + 3)
        finally:
            stop.set()
            poller.join()
    assert response.status_code == 422
    assert "document too large or too deeply nested" in response.text
    assert elapsed < 1.0
    assert len(latencies) >= 5
    # The health checks answered while the bomb was parsed (the first ones, before it, warm
    # the fresh server up and are left out).
    during = [lat for lat, done in zip(latencies, answered, strict=True) if done > started]
    assert during and max(during) < 0.5
