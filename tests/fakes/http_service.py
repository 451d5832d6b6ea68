"""A scriptable HTTP service on loopback: routes, injected faults, latency, a request log.

The base of every fake of a remote HTTP API mlops talks to (see
``fakes.mlflow_server``). A fake registers handlers per ``(method, path)``;
a test then shapes what the client sees without touching the fake's logic:

- ``respond(path, Response(...))``: a canned answer instead of the handler;
- ``fail(path, status=503, times=2)``: errors, e.g. to drive client retries;
- ``delay(seconds, path)``: latency, e.g. to hit a client timeout;
- ``calls(path)``: every request received, in order, with its decoded body.

Rules apply in the order they were added, and each may be limited to the
next ``times`` matching requests. The server is a real socket server with a
thread per connection, so clients exercise their real HTTP stack (sessions,
retries, timeouts) against it.
"""

from __future__ import annotations

import json
import sys
import threading
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def arg(self, name: str, default: str | None = None) -> str | None:
        """A query-string value, or a field of a JSON body (APIs mix both)."""
        if name in self.query:
            return self.query[name][0]
        data = self.json() if self.body else None
        if isinstance(data, dict) and name in data:
            return str(data[name])
        return default


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    headers: Mapping[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        return json.dumps({} if self.body is None else self.body).encode(), "application/json"


Handler = Callable[[Request], Response]


@dataclass
class _Rule:
    method: str | None
    path: str | None
    response: Response | None  # None: the route's own handler answers
    delay_s: float
    remaining: int | None  # None: every matching request

    def matches(self, request: Request) -> bool:
        return (self.method is None or self.method == request.method) and (
            self.path is None or self.path == request.path
        )


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a request sleeping in delay() must not hold stop()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a timeout under test) is expected, not a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class MockHTTPService:
    """An HTTP server on a free loopback port serving ``routes``, until ``stop()``."""

    def __init__(self, routes: Mapping[tuple[str, str], Handler]) -> None:
        self.routes = dict(routes)
        self._rules: list[_Rule] = []
        self._requests: list[Request] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # ------------------------------------------------------------------ shaping responses

    def respond(
        self, path: str, response: Response, *, method: str | None = None, times: int | None = None
    ) -> None:
        """Answer requests to ``path`` with ``response`` instead of the route's handler."""
        self._add(_Rule(method, path, response, 0.0, times))

    def fail(
        self,
        path: str | None = None,
        *,
        status: int = 503,
        times: int | None = 1,
        method: str | None = None,
        body: Any = None,
    ) -> None:
        """The next ``times`` requests (to ``path``, or to any path) get ``status``."""
        error = body if body is not None else {"error_code": "TEMPORARILY_UNAVAILABLE"}
        self._add(_Rule(method, path, Response(status, error), 0.0, times))

    def delay(self, seconds: float, *, path: str | None = None, times: int | None = None) -> None:
        """Hold matching requests for ``seconds`` before answering them normally."""
        self._add(_Rule(None, path, None, seconds, times))

    def clear_rules(self) -> None:
        with self._lock:
            self._rules.clear()

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def _apply_rules(self, request: Request) -> tuple[float, Response | None]:
        """The delay before answering and the canned response, if a rule gives one."""
        delay_s, response = 0.0, None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(request) or rule.remaining == 0:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                delay_s += rule.delay_s
                if rule.response is not None:
                    response = rule.response
                    break
        return delay_s, response

    # ------------------------------------------------------------------ the request log

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def calls(self, path: str | None = None, *, method: str | None = None) -> list[Request]:
        return [
            r
            for r in self.requests
            if (path is None or r.path == path) and (method is None or r.method == method)
        ]

    # ------------------------------------------------------------------ serving

    def _answer(self, request: Request) -> Response:
        with self._lock:
            self._requests.append(request)
        delay_s, response = self._apply_rules(request)
        if delay_s and self._stopping.wait(delay_s):
            return Response(503, {"error_code": "SHUTTING_DOWN"})
        if response is not None:
            return response
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            return Response(
                404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"no route {request.path}"}
            )
        try:
            return handler(request)
        except Exception as exc:  # noqa: BLE001 - a bug in the fake shows as a 500 naming it
            return Response(500, {"error_code": "INTERNAL_ERROR", "message": repr(exc)})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def _serve(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=url.path,
                    query=urllib.parse.parse_qs(url.query),
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                )
                response = service._answer(request)
                payload, content_type = response.encoded()
                self.send_response(response.status)
                headers = {"Content-Type": content_type, **response.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                """Requests are in ``calls()``; nothing goes to stderr."""

        return _Handler


@contextmanager
def serving(routes: Mapping[tuple[str, str], Handler]) -> Iterator[MockHTTPService]:
    service = MockHTTPService(routes)
    try:
        yield service
    finally:
        service.stop()
