"""The web API's sweeps and runs table over a workspace where ``mlops sweep`` really ran.

One workspace for the module (read-only tests): a plain run, then a sweep of eight
points (two fail), then a second sweep of two points, all through the real command.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from fixtures.cli import run_mlops
from fixtures.projects import SWEPT_GRID, SWEPT_PARAMS, SWEPT_PIPELINE, project_config
from mlops.runtime.workspace import Workspace
from mlops.web.server import create_app

pytestmark = pytest.mark.slow

LOOPBACK = "http://127.0.0.1"
RATE, DEPTH = "model.parameters.learning_rate", "model.parameters.depth"


def write_project(workspace: Path, name: str) -> Path:
    assert run_mlops(workspace, "create", name).returncode == 0
    folder = workspace / "projects" / name
    (folder / "src" / "pipeline.py").write_text(SWEPT_PIPELINE)
    config = project_config(name, "prepare train\ntrain evaluate", params=SWEPT_PARAMS)
    (folder / "configs" / "project_config.yaml").write_text(yaml.safe_dump(config))
    return folder


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    workspace = tmp_path_factory.mktemp("swept") / "ws"
    write_project(workspace, "tune")
    plain = run_mlops(workspace, "run", "tune", "--local")
    assert plain.returncode == 0, plain.stderr
    grid = run_mlops(workspace, "sweep", "tune", *SWEPT_GRID, "--executor", "threads", "--local")
    assert grid.returncode == 1, grid.stderr  # two points failed, the others went on
    small = run_mlops(workspace, "sweep", "tune", "--grid", f"{DEPTH}=4,5", "--metric", "loss",
                      "--local")  # fmt: skip
    assert small.returncode == 0, small.stderr
    with TestClient(create_app(Workspace.resolve(workspace)), base_url=LOOPBACK) as client:
        sweeps = client.get("/api/projects/tune/sweeps").json()["sweeps"]
    return {"root": workspace, "grid": sweeps[1]["sweep_id"], "small": sweeps[0]["sweep_id"]}


@pytest.fixture
def client(swept: dict[str, Any]) -> Iterator[TestClient]:
    with TestClient(create_app(Workspace.resolve(swept["root"])), base_url=LOOPBACK) as client:
        yield client


def test_sweeps_are_listed_newest_first_each_with_its_counts_and_best_point(
    client: TestClient, swept: dict[str, Any]
) -> None:
    listed = client.get("/api/projects/tune/sweeps").json()

    assert listed["valid"] is True
    assert [s["sweep_id"] for s in listed["sweeps"]] == [swept["small"], swept["grid"]]
    grid = listed["sweeps"][1]
    assert grid["status"] == "completed_with_failures"
    assert (grid["method"], grid["metric"], grid["goal"]) == (
        "grid",
        "evaluate.accuracy",
        "maximize",
    )
    assert grid["parameters"] == [RATE, DEPTH]
    assert grid["counts"] == {"points": 8, "completed": 6, "failed": 2}
    assert grid["best"]["params"] == {RATE: 0.1, DEPTH: 6}
    assert grid["best"]["best"] is True


def test_a_sweep_has_its_points_best_first_by_its_goal_failed_ones_last_with_the_reason(
    client: TestClient, swept: dict[str, Any]
) -> None:
    sweep = client.get(f"/api/projects/tune/sweeps/{swept['grid']}").json()

    points = sweep["points"]
    assert len(points) == 8
    metrics = [p["metric"] for p in points[:6]]
    assert metrics == sorted(metrics, reverse=True)  # maximize: the highest first
    assert [p["rank"] for p in points] == [1, 2, 3, 4, 5, 6, None, None]
    assert [p["best"] for p in points] == [True] + [False] * 7
    assert points[0]["params"] == {RATE: 0.1, DEPTH: 6}
    assert points[0]["metrics"]["evaluate.accuracy"] == points[0]["metric"]
    failed = points[6:]
    assert {p["status"] for p in failed} == {"failed"}
    assert [p["index"] for p in failed] == sorted(p["index"] for p in failed)
    assert all(p["params"][RATE] == -0.1 for p in failed)
    assert all("learning_rate must not be negative" in p["error"] for p in failed)
    assert sweep["spec"]["parameters"][RATE]["values"] == [-0.1, 0.05, 0.1, 0.3]


def test_minimize_puts_the_lowest_first(client: TestClient, swept: dict[str, Any]) -> None:
    sweep = client.get(f"/api/projects/tune/sweeps/{swept['small']}").json()

    assert sweep["goal"] == "minimize"
    assert [p["params"][DEPTH] for p in sweep["points"]] == [5, 4]  # the deeper, the lower loss
    assert sweep["best"]["params"] == {DEPTH: 5}


@pytest.mark.parametrize("name", ["whole", "prefix", "latest"], ids=str)
def test_a_sweep_is_named_as_the_command_line_names_it(
    client: TestClient, swept: dict[str, Any], name: str
) -> None:
    wanted = {"whole": swept["small"], "prefix": swept["small"][:-2], "latest": "latest"}[name]

    assert client.get(f"/api/projects/tune/sweeps/{wanted}").json()["sweep_id"] == swept["small"]


def test_runs_of_one_sweep_with_chosen_parameter_and_metric_columns(
    client: TestClient, swept: dict[str, Any]
) -> None:
    every = client.get("/api/projects/tune/runs").json()
    table = client.get(
        "/api/projects/tune/runs",
        params={"sweep": swept["grid"], "param": ["learning_rate", DEPTH],
                "metric": ["accuracy", "train.loss"]},
    ).json()  # fmt: skip

    assert every["total"] == 11  # the plain run and both sweeps' points
    assert table["total"] == 8
    assert table["sweep"] == swept["grid"]
    assert {r["sweep"]["sweep_id"] for r in table["runs"]} == {swept["grid"]}
    assert table["columns"] == {"params": ["learning_rate", DEPTH],
                                "metrics": ["accuracy", "train.loss"]}  # fmt: skip
    rates = sorted({r["columns"]["params"]["learning_rate"] for r in table["runs"]})
    assert rates == [-0.1, 0.05, 0.1, 0.3]
    assert {r["columns"]["params"][DEPTH] for r in table["runs"]} == {2, 6}
    failed = [r for r in table["runs"] if r["status"] == "failed"]
    assert [r["columns"]["metrics"] for r in failed] == [{"accuracy": None, "train.loss": None}] * 2
    assert table["available"] == {
        "params": ["depth", "learning_rate"],
        "metrics": ["evaluate.accuracy", "train.loss"],
    }


@pytest.mark.parametrize("order", ["asc", "desc"], ids=str)
def test_runs_sort_by_a_metric_either_way_with_the_runs_without_it_last(
    client: TestClient, swept: dict[str, Any], order: str
) -> None:
    table = client.get(
        "/api/projects/tune/runs",
        params={"sweep": swept["grid"], "metric": "accuracy", "sort": "metric:accuracy",
                "order": order},
    ).json()  # fmt: skip

    values = [r["columns"]["metrics"]["accuracy"] for r in table["runs"]]
    assert values[6:] == [None, None]
    assert values[:6] == sorted(values[:6], reverse=order == "desc")


def test_runs_sort_by_a_parameter_and_pages_are_slices_of_the_whole_order(
    client: TestClient, swept: dict[str, Any]
) -> None:
    query = {"sweep": swept["grid"], "param": RATE, "sort": f"param:{RATE}", "order": "asc"}
    whole = client.get("/api/projects/tune/runs", params=query).json()["runs"]
    pages = [
        client.get("/api/projects/tune/runs", params={**query, "limit": 3, "offset": offset})
        for offset in (0, 3, 6)
    ]

    rates = [r["columns"]["params"][RATE] for r in whole]
    assert rates == sorted(rates)
    assert [r["run_id"] for page in pages for r in page.json()["runs"]] == [
        r["run_id"] for r in whole
    ]


def test_the_default_order_is_newest_first(client: TestClient) -> None:
    runs = client.get("/api/projects/tune/runs").json()["runs"]
    started = [r["started_at"] for r in runs]
    assert started == sorted(started, reverse=True)


LONG = "s" * 300
BAD = [
    ("/api/projects/tune/sweeps/sweep-nope", 404, "project tune has no sweep 'sweep-nope'"),
    ("/api/projects/tune/sweeps/sweep-", 400, "sweep 'sweep-' of tune is ambiguous: 2 match"),
    ("/api/projects/tune/sweeps/sweep-..", 400, "sweep 'sweep-..' is not a valid id"),
    ("/api/projects/tune/sweeps/%2e%2e", 400, None),
    ("/api/projects/tune/sweeps/..%2f..%2f.mlops", 404, None),
    ("/api/projects/tune/sweeps/%2e%2e%2f%2e%2e%2fetc%2fpasswd", 404, None),
    ("/api/projects/tune/sweeps/a%00b", 400, None),
    ("/api/projects/tune/sweeps/a%5c..%5cb", 400, None),
    (f"/api/projects/tune/sweeps/{LONG}", 400, None),
    ("/api/projects/nope/sweeps", 404, "no project 'nope'"),
    ("/api/projects/nope/sweeps/latest", 404, "no project 'nope'"),
    ("/api/projects/-bad/sweeps", 400, None),
    ("/api/projects/tune/runs?sweep=sweep-nope", 404, "project tune has no sweep 'sweep-nope'"),
    ("/api/projects/tune/runs?sweep=..%2f..", 400, None),
    ("/api/projects/tune/runs?sweep=", 400, None),
    ("/api/projects/tune/runs?sort=bogus", 400, "cannot sort runs by 'bogus'"),
    ("/api/projects/tune/runs?sort=param:", 400, "cannot sort runs by 'param:'"),
    ("/api/projects/tune/runs?sort=metric:..%2fx", 400, "metric '../x' is not a valid id"),
    ("/api/projects/tune/runs?param=..%2f..%2fetc", 400, "parameter '../../etc' is not"),
    (f"/api/projects/tune/runs?metric={LONG}", 400, None),
    ("/api/projects/tune/runs?" + "&".join(f"param=p{i}" for i in range(21)), 400,
     "21 parameter columns asked for: at most 20"),
    ("/api/projects/tune/runs?order=sideways", 422, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("path", "status", "message"),
    BAD,
    ids=["unknown-sweep", "ambiguous-prefix", "dot-dot-in-id", "encoded-dot-dot",
         "encoded-slashes", "encoded-traversal", "nul", "backslashes", "long-id", "no-project",
         "no-project-sweep", "bad-project", "filter-unknown-sweep", "filter-traversal",
         "filter-empty", "bad-sort", "sort-without-name", "sort-traversal", "param-traversal",
         "long-metric", "too-many-columns", "bad-order"],
)  # fmt: skip
def test_bad_names_are_a_json_4xx_in_one_line(
    client: TestClient, path: str, status: int, message: str | None
) -> None:
    response = client.get(path)

    assert response.status_code == status, response.text[:300]
    detail = response.json()["detail"]
    if message is not None:
        assert isinstance(detail, str)
        assert detail.startswith(message), detail
        assert "\n" not in detail


def test_a_project_whose_config_cannot_be_read_has_no_sweeps_and_no_500(
    swept: dict[str, Any], tmp_path: Path
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(swept["root"], root)
    (root / "projects" / "tune" / "configs" / "project_config.yaml").write_text("model: [\n")
    with TestClient(create_app(Workspace.resolve(root)), base_url=LOOPBACK) as client:
        listed = client.get("/api/projects/tune/sweeps")
        one = client.get("/api/projects/tune/sweeps/latest")
        runs = client.get("/api/projects/tune/runs?sweep=latest&metric=accuracy")

    assert listed.status_code == 200
    assert listed.json()["valid"] is False
    assert listed.json()["sweeps"] == []
    assert one.status_code == 404
    assert one.json()["detail"].startswith("the sweeps of tune cannot be read: ")
    assert runs.status_code == 200
    assert runs.json()["valid"] is False


def test_a_damaged_sweep_record_is_shown_with_what_it_holds(
    swept: dict[str, Any], tmp_path: Path
) -> None:
    from mlops.managers.run_store import open_runs_store

    root = tmp_path / "ws"
    shutil.copytree(swept["root"], root)
    kv = open_runs_store(Workspace.resolve(root), "tune")
    try:
        points = [{"index": "one"}, None, {"index": 0}]
        damaged = {"sweep_id": "sweep-damaged", "spec": None, "best": "x", "points": points}
        kv.set("sweeps/sweep-damaged", damaged)
        kv.set("sweeps/sweep-empty", {"sweep_id": "sweep-empty", "points": "none"})
    finally:
        kv.close()
    with TestClient(create_app(Workspace.resolve(root)), base_url=LOOPBACK) as client:
        listed = client.get("/api/projects/tune/sweeps")
        damaged = client.get("/api/projects/tune/sweeps/sweep-damaged")
        empty = client.get("/api/projects/tune/sweeps/sweep-empty")

    assert listed.status_code == 200
    assert damaged.status_code == 200
    assert [p["index"] for p in damaged.json()["points"]] == [0]
    assert damaged.json()["best"] is None
    assert empty.json()["points"] == []
