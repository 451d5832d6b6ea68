"""The web server's error corpus: requests no browser would send, each a 4xx.

Paths no file system could hold, very deep paths, host names that are not
this machine's (DNS rebinding), and what an unauthenticated caller learns.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fixtures.projects import ProjectFactory
from mlops.runtime.workspace import Workspace
from mlops.session.platform import MLPlatform
from mlops.web.server import create_app

pytestmark = pytest.mark.slow

PIPELINE = """
from mlops import process

@process
def train():
    return 1
"""
LOOPBACK = "http://127.0.0.1"
LONG = "a" * 300
DEEP = "/".join(["d"] * 10_000)


@pytest.fixture
def workspace(make_project: ProjectFactory, tmp_workspace: Path) -> Path:
    make_project("demo", PIPELINE, "train")
    MLPlatform().run_pipeline_for_project("demo")
    return tmp_workspace


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Workspace.resolve(workspace)), base_url=LOOPBACK) as test_client:
        yield test_client


PATHS = [
    f"/projects/{LONG}",
    f"/projects/demo/{LONG}.png",
    f"/projects/demo/{LONG}/{LONG}/x",
    f"/projects/{DEEP}",
    f"/ui/{LONG}",
    f"/ui/{DEEP}",
    f"/api/projects/{LONG}",
    f"/api/projects/{LONG}/runs",
    f"/api/projects/demo/runs/{LONG}",
    f"/api/projects/demo/runs/{LONG}/charts",
    f"/api/projects/demo/runs/{LONG}/artifacts/fetch?name={LONG}",
    f"/api/projects/demo/compare?runs={LONG}&runs={LONG}",
    f"/api/{DEEP}",
    "/projects/demo/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/projects/demo/" + "%00" * 10,
    "/projects/" + "%ff%fe" * 200,
]


@pytest.mark.parametrize("path", PATHS, ids=range(len(PATHS)))
def test_a_hostile_path_is_a_4xx_never_a_5xx(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:8765",
        "127.0.0.1.evil.example",
        "localhost.evil",
        "10.0.0.1",
        # A bracketed loopback address followed by anything but a port is no loopback name.
        "[::1]evil.example",
        "[::1]:8765evil.example",
        "[::1].evil.example",
        "localhost:evil.example",
    ],
)
def test_without_a_token_only_loopback_host_names_are_answered(workspace: Path, host: str) -> None:
    """DNS rebinding: a page of evil.example resolved to 127.0.0.1 sends its own name."""
    with TestClient(create_app(Workspace.resolve(workspace)), base_url=LOOPBACK) as client:
        for path in ("/api/projects", "/api/projects/demo/runs", "/", "/api/health"):
            refused = client.get(path, headers={"Host": host})
            assert refused.status_code == 421, (path, refused.status_code)
            assert "demo" not in refused.text


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765", "127.0.0.2"])
def test_loopback_host_names_are_answered(workspace: Path, host: str) -> None:
    with TestClient(create_app(Workspace.resolve(workspace)), base_url=LOOPBACK) as client:
        assert client.get("/api/projects", headers={"Host": host}).status_code == 200


def test_with_a_token_any_host_name_may_ask_and_the_token_decides(workspace: Path) -> None:
    token = "s3cret-token"  # noqa: S105 - a test token
    app = create_app(Workspace.resolve(workspace), token=token)
    with TestClient(app, base_url="http://mlops.internal") as client:
        assert client.get("/api/projects").status_code == 401
        allowed = client.get("/api/projects", headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200


def test_unauthenticated_answers_reveal_no_file_system_path(workspace: Path) -> None:
    token = "s3cret-token"  # noqa: S105 - a test token
    app = create_app(Workspace.resolve(workspace), token=token)
    root = str(workspace.resolve())
    with TestClient(app, base_url=LOOPBACK) as client:
        for path in ("/api/health", "/api/projects", "/projects/demo/x", f"/ui/{LONG}", "/"):
            answer = client.get(path)
            assert root not in answer.text, path
            assert str(Path.home()) not in answer.text or str(Path.home()) == "/", path
        assert client.get("/api/health").json()["workspace"] == workspace.name


def test_an_error_from_a_damaged_store_names_no_absolute_path(workspace: Path) -> None:
    """A 400 names the store as the workspace does (``.mlops/kv.sqlite3``), not where it lives."""
    store = workspace / ".mlops" / "kv.sqlite3"
    for suffix in ("-wal", "-shm"):
        Path(f"{store}{suffix}").unlink(missing_ok=True)
    store.write_bytes(b"this is not a database, " * 100)
    with TestClient(create_app(Workspace.resolve(workspace)), base_url=LOOPBACK) as client:
        answer = client.get("/api/projects/demo/runs")
    assert answer.status_code == 400, answer.text
    detail = answer.json()["detail"]
    assert ".mlops/kv.sqlite3" in detail
    assert str(workspace.resolve()) not in detail
