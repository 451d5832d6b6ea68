"""Charts of real runs: static PNGs, dynamic series, failures kept apart, the entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.projects import ProjectFactory
from mlops.reporting.kv_utils import get_chart_record, list_chart_records
from mlops.reporting.rendering import ChartWarning
from mlops.session.platform import MLPlatform

pytestmark = pytest.mark.slow

PIPELINE = """
from mlops import process
from mlops import chart

@process
def train(ctx, epochs):
    for step in range(epochs):
        ctx.log_metric("loss", 1.0 / (step + 1), step=step)
    ctx.log_metric("accuracy", 0.75)
    return {"weights": [1, 2, 3]}

@chart(title="Training loss")
def loss_curve(ctx):
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots()
    steps, values = zip(*ctx.series("train", "loss"))
    axes.plot(steps, values)
    axes.set_title(f"{len(ctx.result('train')['weights'])} weights")
    return figure

@chart(kind="dynamic")
def loss_series(ctx):
    return {
        "series": [{"name": "loss", "points": [[s, v] for s, v in ctx.series("train", "loss")]}],
        "x_label": "step",
        "scale": ctx.parameters.get("scale", 1),
    }

@chart
def broken(ctx):
    raise RuntimeError("no ink")

def plain(ctx):
    import matplotlib.pyplot as plt
    figure = plt.figure()
    figure.text(0.5, 0.5, str(ctx.final("train", "accuracy")))
    ctx.save_figure(figure)
    plt.close(figure)
"""

FAILING = """
from mlops import process

@process
def train(ctx):
    raise ValueError("x")
"""
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def make(make_project: ProjectFactory, name: str, charts: list[dict[str, object]]) -> Path:
    return make_project(
        name, PIPELINE, "train", params={"epochs": 4}, extra={"reporting": {"charts": charts}}
    )


def test_a_run_renders_its_static_and_dynamic_charts(make_project: ProjectFactory) -> None:
    project = make(
        make_project,
        "charted",
        [{"name": "loss_curve"}, {"name": "loss_series", "parameters": {"scale": 10}}],
    )
    platform = MLPlatform()

    report = platform.run_pipeline_for_project("charted")

    assert report.ok
    static, dynamic = report.charts
    assert static["status"] == "rendered"
    assert static["kind"] == "static"
    assert static["title"] == "Training loss"
    cache = Path(static["cache_path"])
    assert cache == project / "outputs" / "charts" / report.run_id / "loss_curve.png"
    assert cache.read_bytes().startswith(PNG_MAGIC)
    _, config = platform.load("charted")
    stores = platform.open_stores("charted", config)
    try:
        assert stores.objects.get(static["object_key"]) == cache.read_bytes()
        assert get_chart_record(stores.kv, report.run_id, "loss_series") == dynamic
        assert [r["name"] for r in list_chart_records(stores.kv, report.run_id)] == [
            "loss_curve",
            "loss_series",
        ]
    finally:
        stores.kv.close()
        stores.objects.close()
    assert dynamic["data"] == {
        "series": [{"name": "loss", "points": [[0, 1.0], [1, 0.5], [2, 1 / 3], [3, 0.25]]}],
        "x_label": "step",
        "scale": 10,
    }


def test_a_failing_chart_is_recorded_and_the_run_and_other_charts_go_on(
    make_project: ProjectFactory,
) -> None:
    make(
        make_project,
        "partial",
        [
            {"name": "broken"},
            {"name": "missing"},
            {"name": "plain", "entrypoint": "pipeline:plain"},
        ],
    )

    with pytest.warns(ChartWarning) as warned:
        report = MLPlatform().run_pipeline_for_project("partial")

    assert report.ok
    by_name = {c["name"]: c for c in report.charts}
    assert by_name["broken"]["status"] == "failed"
    assert by_name["broken"]["error"] == "RuntimeError: no ink"
    assert by_name["missing"]["status"] == "failed"
    assert "no chart named 'missing'" in by_name["missing"]["error"]
    assert "loss_curve" in by_name["missing"]["error"]
    assert by_name["plain"]["status"] == "rendered"
    assert Path(by_name["plain"]["cache_path"]).read_bytes().startswith(PNG_MAGIC)
    assert len(warned) == 2


def test_charts_whose_inputs_did_not_change_are_reused_not_drawn_again(
    make_project: ProjectFactory,
) -> None:
    project = make(make_project, "reuse", [{"name": "loss_curve"}, {"name": "loss_series"}])
    platform = MLPlatform()
    first = platform.run_pipeline_for_project("reuse")
    again = platform.run_pipeline_for_project("reuse")  # fully cached

    assert [c["status"] for c in again.charts] == ["rendered", "rendered"]
    assert [c.get("reused_from") for c in again.charts] == [first.run_id, first.run_id]
    assert again.charts[0]["object_key"] == first.charts[0]["object_key"]
    assert not (project / "outputs" / "charts" / again.run_id).exists()
    # The image is an artifact of both runs: the same stored file.
    (artifact,) = again.record["artifacts"]
    assert artifact == first.record["artifacts"][0]
    assert artifact["name"] == "charts/loss_curve.png"

    # A changed parameter changes what the charts read: drawn again.
    platform.projects.config_set("reuse", ["model.parameters.epochs=5"])
    changed = platform.run_pipeline_for_project("reuse")
    assert [c.get("reused_from") for c in changed.charts] == [None, None]
    assert (project / "outputs" / "charts" / changed.run_id / "loss_curve.png").is_file()


def test_a_failed_run_renders_no_charts(make_project: ProjectFactory) -> None:
    make_project(
        "failing",
        FAILING,
        "train",
        extra={"reporting": {"charts": [{"name": "anything"}]}},
    )

    report = MLPlatform().run_pipeline_for_project("failing")

    assert not report.ok
    assert report.charts == []


def test_the_entrypoint_renders_the_latest_run_again(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    project = make(make_project, "again", [{"name": "loss_curve"}])
    report = MLPlatform().run_pipeline_for_project("again")
    cache = project / "outputs" / "charts" / report.run_id / "loss_curve.png"
    cache.unlink()

    done = subprocess.run(
        [sys.executable, "-m", "mlops.reporting.entrypoint", "--project", "again",
         "--workspace", str(tmp_workspace)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"loss_curve: rendered {cache}\n"
    assert cache.read_bytes().startswith(PNG_MAGIC)


def test_the_entrypoint_says_what_is_wrong_in_one_line(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    make(make_project, "norun", [{"name": "loss_curve"}])
    make_project("nocharts", PIPELINE, "train", params={"epochs": 1})

    def entry(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mlops.reporting.entrypoint", "--workspace",
             str(tmp_workspace), *args],
            capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip

    no_run = entry("--project", "norun")
    assert no_run.returncode == 2
    assert no_run.stderr == (
        "mlops: error: project norun has no runs yet (run it with `mlops run norun`)\n"
    )
    bad_id = entry("--project", "norun", "--run", "../../etc")
    assert bad_id.returncode == 2
    assert "run '../../etc' is not a valid id" in bad_id.stderr
    empty = entry("--project", "nocharts")
    assert empty.returncode == 2
    assert "reporting.charts is empty" in empty.stderr
