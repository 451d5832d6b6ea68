"""The server's two guards, run on every request before any route.

With a token (required for a non-loopback bind), every API and file request
must carry it: ``Authorization: Bearer``, the ``X-Mlops-Token`` header, or
``?token=`` for images the page loads. Without one, only requests addressed to
this machine by a loopback name are answered.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from mlops.web.hosts import is_loopback

TOKEN_HEADER = "x-mlops-token"  # noqa: S105 - a header name, not a secret
PROTECTED_PREFIXES = ("/api/", "/projects/")
OPEN_PATHS = frozenset({"/api/health"})

Middleware = Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]


def token_guard(token: str | None) -> Middleware:
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if token and path not in OPEN_PATHS and path.startswith(PROTECTED_PREFIXES):
            given = _token_of(request)
            if given is None or not hmac.compare_digest(given.encode(), token.encode()):
                return JSONResponse({"detail": "a valid token is required"}, status_code=401)
        return await call_next(request)

    return guard


def host_guard(token: str | None) -> Middleware:
    """Without a token, answer only requests addressed to this machine by a loopback name.

    A web page can make a browser send requests to ``127.0.0.1`` under a name
    its attacker controls (DNS rebinding); the browser then lets that page
    read the answers. Such requests carry the attacker's host name in
    ``Host``: refusing every name but loopback ones closes that door. With a
    token, the token guards the data instead.
    """

    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if token is None and not is_loopback(_host_name(request.headers.get("host", ""))):
            return JSONResponse(
                {"detail": "this server answers only to localhost and loopback addresses"},
                status_code=421,
            )
        return await call_next(request)

    return guard


def _host_name(header: str) -> str:
    """The host of a ``Host`` header: ``[::1]:8765`` -> ``::1``, ``a.b:80`` -> ``a.b``.

    Anything after a bracketed address but a port (``[::1]evil.com``) is not a
    host header at all: returned whole, it matches no loopback name.
    """
    if header.startswith("["):
        end = header.find("]")
        rest = header[end + 1 :] if end > 0 else None
        if rest is None or not (rest == "" or (rest[:1] == ":" and rest[1:].isdigit())):
            return header
        return header[1:end]
    host, colon, port = header.rpartition(":")
    return host if colon and header.count(":") == 1 and port.isdigit() else header


def _token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get(TOKEN_HEADER) or request.query_params.get("token")


__all__ = ["OPEN_PATHS", "PROTECTED_PREFIXES", "TOKEN_HEADER", "host_guard", "token_guard"]
