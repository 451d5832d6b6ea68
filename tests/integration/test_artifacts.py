"""Artifacts: files a run produced, stored once by content, listed per run, served, re-attached."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from fixtures.projects import ProjectFactory
from mlops.runtime.workspace import Workspace
from mlops.session.platform import MLPlatform
from mlops.tracking.run_records import get_run, run_artifacts
from mlops.web.server import create_app

# TestClient's default host, "testserver", is refused without a token (rebinding guard).
LOOPBACK = "http://127.0.0.1"

PIPELINE = """
from pathlib import Path
from mlops import process


@process
def train(ctx, size):
    work = ctx.project_dir / "work"
    (work / "plots").mkdir(parents=True, exist_ok=True)
    (work / "plots" / "a.txt").write_text("plot a")
    (work / "plots" / "b.txt").write_text(f"plot b {size}")
    (work / "notes.txt").write_text("the same notes every time")
    (ctx.project_dir / "outputs").mkdir(exist_ok=True)
    (ctx.project_dir / "outputs" / "model.bin").write_bytes(bytes([size]) * 100)
    ctx.log_artifact("work/plots")
    ctx.log_artifact(work / "notes.txt", name="docs/notes.txt")
    return size


@process
def evaluate(train):
    return train * 2
"""
NAMES = ["plots/a.txt", "plots/b.txt", "docs/notes.txt", "outputs/model.bin"]


def stored(workspace: Path) -> set[str]:
    root = workspace / ".mlops" / "objects"
    return {p.name for p in root.rglob("*") if p.is_file() and "artifacts" in p.parts}


def test_artifacts_are_stored_once_listed_per_run_and_served(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    project = make_project(
        "files", PIPELINE, "train evaluate", params={"size": 3},
        processes={"train": {"outputs": ["outputs/*.bin"]}},
    )  # fmt: skip
    platform = MLPlatform()
    first = platform.run_pipeline_for_project("files")
    record = first.record
    assert [a["name"] for a in record["processes"]["train"]["artifacts"]] == NAMES
    assert len(stored(tmp_workspace)) == 4

    # Nothing changed: train is reused and lists the same stored files; nothing new is stored.
    second = platform.run_pipeline_for_project("files")
    assert second.processes["train"].status.value == "cached"
    kv = platform.open_stores("files").kv
    again = get_run(kv, second.run_id)
    assert again is not None
    assert again["processes"]["train"]["artifacts"] == record["processes"]["train"]["artifacts"]
    assert len(stored(tmp_workspace)) == 4

    # A new size: two files change, the other two are the same bytes, stored once.
    platform.projects.config_set("files", ["model.parameters.size=4"])
    platform.run_pipeline_for_project("files")
    assert len(stored(tmp_workspace)) == 6

    with TestClient(create_app(Workspace.resolve(tmp_workspace)), base_url=LOOPBACK) as client:
        listed = client.get(f"/api/projects/files/runs/{second.run_id}/artifacts").json()
        assert [a["name"] for a in listed] == [f"train/{name}" for name in NAMES]
        notes = next(a for a in listed if a["name"] == "train/docs/notes.txt")
        fetched = client.get(notes["url"])
        assert fetched.status_code == 200
        assert fetched.content == (project / "work" / "notes.txt").read_bytes()
        assert "notes.txt" in fetched.headers["content-disposition"]
        missing = client.get(f"/api/projects/files/runs/{second.run_id}/artifacts/fetch?name=x")
        assert missing.status_code == 404
        outside = client.get(
            f"/api/projects/files/runs/{second.run_id}/artifacts/fetch?name=../../kv.sqlite3"
        )
        assert outside.status_code == 404


def test_a_missing_artifact_fails_the_process_with_one_line(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    source = """
from mlops import process


@process
def train(ctx):
    ctx.log_artifact("nowhere/model.pkl")
    return 1
"""
    make_project("nofile", source, "train")
    report = MLPlatform().run_pipeline_for_project("nofile")
    assert report.processes["train"].status.value == "failed"
    assert "artifact" in str(report.processes["train"].error)
    assert "nowhere/model.pkl does not exist" in str(report.processes["train"].error)
    assert run_artifacts(report.record) == []
