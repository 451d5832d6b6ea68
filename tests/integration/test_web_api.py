"""The web API over a real workspace: real runs, real stores, charts, tokens and traversal."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fixtures.projects import CHARTED_PIPELINE, CHARTS, ProjectFactory
from fixtures.servers import Server, free_port
from mlops.runtime.workspace import Workspace
from mlops.session.platform import MLPlatform
from mlops.storage.fallback import StorageFallbackWarning
from mlops.web.server import create_app

# TestClient's default host, "testserver", is refused without a token (rebinding guard).
LOOPBACK = "http://127.0.0.1"

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(make_project: ProjectFactory, tmp_workspace: Path) -> dict[str, Any]:
    make_project("demo", CHARTED_PIPELINE, "prepare train\ntrain report", extra=CHARTS)
    platform = MLPlatform()
    first = platform.run_pipeline_for_project("demo")
    second = platform.run_pipeline_for_project("demo")
    return {"root": tmp_workspace, "first": first, "second": second}


@pytest.fixture
def client(workspace: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(
        create_app(Workspace.resolve(workspace["root"])), base_url=LOOPBACK
    ) as test_client:
        yield test_client


def test_health_and_the_project_list(client: TestClient, workspace: dict[str, Any]) -> None:
    health = client.get("/api/health").json()
    assert health["status"] == "ok"
    assert health["workspace"] == workspace["root"].name

    projects = client.get("/api/projects").json()
    assert [(p["id"], p["valid"], p["path"]) for p in projects] == [("demo", True, "projects/demo")]


def test_a_project_with_its_runs_newest_first(
    client: TestClient, workspace: dict[str, Any]
) -> None:
    detail = client.get("/api/projects/demo").json()
    assert detail["runs"] == 2
    assert detail["processes"] == ["prepare", "train", "report"]
    assert detail["latest_run"]["run_id"] == workspace["second"].run_id

    runs = client.get("/api/projects/demo/runs").json()
    assert runs["total"] == 2
    assert [r["run_id"] for r in runs["runs"]] == [
        workspace["second"].run_id,
        workspace["first"].run_id,
    ]
    assert client.get("/api/projects/demo/runs?limit=1&offset=1").json()["runs"][0]["run_id"] == (
        workspace["first"].run_id
    )


def test_a_run_has_per_process_status_timings_cache_hits_and_metrics(
    client: TestClient, workspace: dict[str, Any]
) -> None:
    first = client.get(f"/api/projects/demo/runs/{workspace['first'].run_id}").json()
    second = client.get(f"/api/projects/demo/runs/{workspace['second'].run_id}").json()

    assert first["status"] == "completed"
    assert first["counts"] == {"completed": 3}
    assert second["counts"] == {"cached": 3}
    train = first["processes"]["train"]
    assert train["duration"] >= 0
    assert train["cache_hit"] is False
    assert second["processes"]["train"]["cache_hit"] is True
    assert [m["value"] for m in train["metrics"] if m["name"] == "loss"] == [1.0, 0.5, 1 / 3]


def test_the_graph_has_nodes_edges_and_the_last_runs_statuses(
    client: TestClient, make_project: ProjectFactory
) -> None:
    graph = client.get("/api/projects/demo/graph").json()

    assert [(n["id"], n["status"]) for n in graph["nodes"]] == [
        ("prepare", "cached"),
        ("train", "cached"),
        ("report", "cached"),
    ]
    assert graph["edges"] == [
        {"source": "prepare", "target": "train"},
        {"source": "train", "target": "report"},
    ]
    assert graph["generations"] == [["prepare"], ["train"], ["report"]]

    make_project(
        "failing",
        CHARTED_PIPELINE,
        "prepare train\ntrain report",
        params={"fail": True},
        extra=CHARTS,
    )
    MLPlatform().run_pipeline_for_project("failing")
    statuses = {
        n["id"]: n["status"] for n in client.get("/api/projects/failing/graph").json()["nodes"]
    }
    assert statuses == {"prepare": "completed", "train": "failed", "report": "skipped"}


def test_charts_are_listed_and_fetched(client: TestClient, workspace: dict[str, Any]) -> None:
    run_id = workspace["first"].run_id

    charts = client.get(f"/api/projects/demo/runs/{run_id}/charts").json()

    by_name = {c["name"]: c for c in charts}
    assert by_name["loss_data"]["data"]["series"][0]["points"] == [[0, 1.0], [1, 0.5], [2, 1 / 3]]
    assert "url" not in by_name["loss_data"]
    assert "cache_path" not in by_name["loss"]  # server paths are not shown
    image = client.get(by_name["loss"]["url"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")


def test_a_chart_whose_cache_file_is_gone_is_served_from_the_object_store_uri(
    client: TestClient, workspace: dict[str, Any]
) -> None:
    report = workspace["first"]
    static = next(c for c in report.charts if c["name"] == "loss")
    Path(static["cache_path"]).unlink()

    image = client.get(f"/api/projects/demo/runs/{report.run_id}/charts/fetch?name=loss")

    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")


def test_project_files_are_served(client: TestClient, workspace: dict[str, Any]) -> None:
    config = client.get("/projects/demo/configs/project_config.yaml")
    assert config.status_code == 200
    assert "process_adjlist" in config.text


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/projects/nope", 404),
        ("/api/projects/nope/runs", 404),
        ("/api/projects/demo/runs/missing-run", 404),
        ("/api/projects/demo/runs/bad%20id", 400),
        ("/api/projects/-bad", 400),
        ("/api/projects/demo/runs/x/charts/fetch", 422),
        ("/api/projects/demo/runs?limit=0", 422),
        ("/api/projects/demo/runs?limit=abc", 422),
    ],
    ids=["no-project", "no-project-runs", "no-run", "bad-run-id", "bad-project-id",
         "fetch-without-name", "zero-limit", "text-limit"],
)  # fmt: skip
def test_bad_input_is_a_json_4xx(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert "detail" in response.json()


TRAVERSAL = [
    "/projects/../.mlops/state.db",
    "/projects/%2e%2e/.mlops/state.db",
    "/projects/%2E%2E/%2E%2E/etc/passwd",
    "/projects/demo/%2e%2e/%2e%2e/.mlops/state.db",
    "/projects/demo/..%2f..%2f.mlops%2fstate.db",
    "/projects/demo%2f..%2f..%2f.mlops%2fstate.db",
    "/projects/%252e%252e/%252e%252e/etc/passwd",
    "/projects//etc/passwd",
    "/projects/%2fetc%2fpasswd",
    "/projects/demo/..\\..\\.mlops\\state.db",
    "/projects/demo/%5c..%5c..%5cetc%5cpasswd",
    "/projects/demo/link-out/passwd",
    "/projects/demo/secret-link",
    "/projects/demo/src/../../../.mlops/state.db",
    "/projects/demo/%00/etc/passwd",
    "/projects/C:/Windows/win.ini",
    "/ui/../server.py",
    "/ui/%2e%2e/server.py",
    "/api/projects/..%2f..%2fetc/runs",
    "/api/projects/demo/runs/..%2f..%2f/charts/fetch?name=x",
    "/api/projects/demo/runs/" + "r" * 10 + "/charts/fetch?name=..%2f..%2fetc%2fpasswd",
]


def test_nothing_outside_the_workspace_is_ever_served(
    client: TestClient, workspace: dict[str, Any], tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("root:x:0:0")
    project = workspace["root"] / "projects" / "demo"
    (project / "link-out").symlink_to(outside)
    (project / "secret-link").symlink_to(outside / "passwd")

    assert len(TRAVERSAL) >= 15
    for path in TRAVERSAL:
        response = client.get(path)
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert b"root:x" not in response.content, path
        assert b"SQLite" not in response.content, path


def test_a_token_is_required_on_every_api_and_file_request(workspace: dict[str, Any]) -> None:
    app = create_app(Workspace.resolve(workspace["root"]), token="s3cret")  # noqa: S106 - a test token
    run_id = workspace["first"].run_id
    with TestClient(app, base_url=LOOPBACK) as client:
        assert client.get("/api/health").status_code == 200
        for path in ("/api/projects", f"/api/projects/demo/runs/{run_id}",
                     "/projects/demo/configs/project_config.yaml"):  # fmt: skip
            assert client.get(path).status_code == 401
            assert client.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert client.get(path, headers={"Authorization": "Bearer s3cret"}).status_code == 200
            assert client.get(path, headers={"X-Mlops-Token": "s3cret"}).status_code == 200
        image = f"/api/projects/demo/runs/{run_id}/charts/fetch?name=loss&token=s3cret"
        assert client.get(image).status_code == 200


def test_the_workspace_is_resolved_when_the_app_is_made(
    workspace: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_WORKSPACE_DIR", str(workspace["root"]))
    app = create_app()
    monkeypatch.setenv("MLOPS_WORKSPACE_DIR", str(tmp_path / "elsewhere"))
    with TestClient(app, base_url=LOOPBACK) as client:
        assert client.get("/api/health").json()["workspace"] == workspace["root"].name
        assert [p["id"] for p in client.get("/api/projects").json()] == ["demo"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--host", "0.0.0.0"],  # noqa: S104 - the bind being refused
            "--host 0.0.0.0: serving beyond this machine needs a token",
        ),
        (["--token", "short"], "--token: use at least 8 characters"),
    ],
    ids=["public-bind-without-token", "short-token"],
)
def test_serve_refuses_an_unguarded_public_bind_in_one_line(
    tmp_workspace: Path, args: list[str], message: str
) -> None:
    from fixtures.cli import run_mlops

    done = run_mlops(tmp_workspace, "serve", *args, timeout=60)

    assert done.returncode == 2
    assert done.stderr.startswith(f"mlops: error: {message}")
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_page_and_its_assets_are_served_from_the_package(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for asset, kind in (("/ui/app.js", "text/javascript"), ("/ui/style.css", "text/css")):
        response = client.get(asset)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(kind)
    assert client.get("/ui/missing.js").status_code == 404


def test_the_ui_loads_nothing_from_the_network() -> None:
    from mlops.web.server import UI_DIR

    for path in sorted(UI_DIR.iterdir()):
        text = path.read_text(encoding="utf-8").replace('"http://www.w3.org/2000/svg"', "")
        assert "http://" not in text, path.name
        assert "https://" not in text, path.name
        assert "//cdn" not in text, path.name


@pytest.mark.redis
@pytest.mark.requires_redis_server
def test_runs_written_while_redis_was_down_are_listed_from_the_local_fallback_file(
    make_project: ProjectFactory,
    tmp_workspace: Path,
    redis_server: Server,
) -> None:

    nobody = f"redis://127.0.0.1:{free_port()}/0"  # a free port: nothing listens there
    down = {**CHARTS, "storage": {"kv": {"backend": "redis", "url": nobody, "timeout": 0.5}}}
    make_project("remote", CHARTED_PIPELINE, "prepare train\ntrain report", extra=down)
    with pytest.warns(StorageFallbackWarning):
        offline = MLPlatform().run_pipeline_for_project("remote")
    prefix = f"web-{uuid.uuid4().hex[:8]}"  # the server is shared by the session's tests
    up = {
        **CHARTS,
        "storage": {"kv": {"backend": "redis", "url": redis_server.url, "prefix": prefix}},
    }
    make_project("remote", CHARTED_PIPELINE, "prepare train\ntrain report", extra=up)
    online = MLPlatform().run_pipeline_for_project("remote")

    with TestClient(create_app(Workspace.resolve(tmp_workspace)), base_url=LOOPBACK) as client:
        runs = client.get("/api/projects/remote/runs").json()
        detail = client.get(f"/api/projects/remote/runs/{offline.run_id}").json()
        charts = client.get(f"/api/projects/remote/runs/{offline.run_id}/charts").json()

    assert [(r["run_id"], r.get("store")) for r in runs["runs"]] == [
        (online.run_id, None),
        (offline.run_id, "local"),
    ]
    assert detail["counts"] == {"completed": 3}
    assert {c["name"]: c["status"] for c in charts} == {"loss": "rendered", "loss_data": "rendered"}
