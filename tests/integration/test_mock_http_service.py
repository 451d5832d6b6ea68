"""The scriptable HTTP service behind the fakes: rules, latency and the request log."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from fakes.http_service import MockHTTPService, Request, Response, serving


def echo(request: Request) -> Response:
    return Response(200, {"method": request.method, "name": request.arg("name")})


def broken(request: Request) -> Response:
    raise KeyError("missing")


@pytest.fixture
def service() -> Iterator[MockHTTPService]:
    with serving({("GET", "/echo"): echo, ("POST", "/echo"): echo, ("GET", "/bug"): broken}) as s:
        yield s


def call(
    service: MockHTTPService, path: str, body: Any = None, timeout: float = 5
) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback URL built here
        f"{service.url}{path}", data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_routes_answer_from_query_or_body(service: MockHTTPService) -> None:
    assert call(service, "/echo?name=a") == (200, {"method": "GET", "name": "a"})
    assert call(service, "/echo", {"name": "b"}) == (200, {"method": "POST", "name": "b"})


def test_unknown_routes_are_404_and_handler_bugs_are_500_naming_them(
    service: MockHTTPService,
) -> None:
    status, body = call(service, "/nowhere")
    assert (status, body["error_code"]) == (404, "ENDPOINT_NOT_FOUND")
    status, body = call(service, "/bug")
    assert status == 500
    assert "KeyError('missing')" in body["message"]


def test_every_request_is_logged_in_order_with_its_body(service: MockHTTPService) -> None:
    call(service, "/echo?name=x")
    call(service, "/echo", {"name": "y"})
    call(service, "/nowhere")
    assert [(r.method, r.path) for r in service.requests] == [
        ("GET", "/echo"), ("POST", "/echo"), ("GET", "/nowhere"),
    ]  # fmt: skip
    (posted,) = service.calls("/echo", method="POST")
    assert posted.json() == {"name": "y"}
    assert service.calls("/echo", method="GET")[0].query == {"name": ["x"]}


def test_failures_apply_to_the_next_n_matching_requests(service: MockHTTPService) -> None:
    service.fail("/echo", status=503, times=2)
    statuses = [call(service, "/echo?name=z")[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    service.fail(status=500, times=None)  # every path, until cleared
    assert call(service, "/echo")[0] == 500
    assert call(service, "/nowhere")[0] == 500
    service.clear_rules()
    assert call(service, "/echo")[0] == 200


def test_canned_responses_replace_the_handler(service: MockHTTPService) -> None:
    service.respond("/echo", Response(202, {"canned": True}), method="POST", times=1)
    assert call(service, "/echo", {"name": "q"}) == (202, {"canned": True})
    assert call(service, "/echo", {"name": "q"})[0] == 200
    assert call(service, "/echo?name=q")[0] == 200  # GET was never matched


def test_latency_delays_and_can_exceed_a_client_timeout(service: MockHTTPService) -> None:
    service.delay(0.3, path="/echo", times=1)
    started = time.monotonic()
    assert call(service, "/echo?name=slow")[0] == 200
    assert time.monotonic() - started >= 0.3
    service.delay(5, path="/echo")
    with pytest.raises(TimeoutError):
        call(service, "/echo", timeout=0.3)


def test_stop_does_not_wait_for_a_delayed_request() -> None:
    service = MockHTTPService({("GET", "/echo"): echo})
    service.delay(30)
    with pytest.raises(TimeoutError):
        call(service, "/echo", timeout=0.2)
    service.stop()  # returns although a handler is still in its delay (pytest-timeout guards)
    with pytest.raises(urllib.error.URLError):
        call(service, "/echo", timeout=1)
