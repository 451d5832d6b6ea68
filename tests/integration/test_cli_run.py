"""``mlops run`` and ``mlops quickstart`` through click's runner and the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.cli import run_mlops
from fixtures.extras import require
from fixtures.projects import ProjectFactory
from mlops.main import cli, main
from mlops.session.platform import MLPlatform
from mlops.tracking.run_records import get_run, list_runs

PIPELINE = """
from mlops import process

@process
def load(size):
    return list(range(size))

@process
def total(ctx, load):
    ctx.log_metric("total", sum(load))
    return sum(load)
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_run_then_rerun_reports_ran_and_reused(make_project: ProjectFactory) -> None:
    make_project("calc", PIPELINE, "load total", params={"size": 4})
    code, out, _ = invoke("run", "calc")
    assert code == 0
    assert "ran      load" in out
    assert "completed: run " in out
    assert "(2 ran)" in out
    code, out, _ = invoke("run", "calc", "--explain")
    assert code == 0
    assert "reused   total  reused: inputs unchanged since run" in out
    assert "(2 reused)" in out


def test_quiet_prints_only_the_verdict(make_project: ProjectFactory) -> None:
    make_project("calc", PIPELINE, "load total", params={"size": 4})
    code, out, _ = invoke("-q", "run", "calc", "--no-cache")
    assert code == 0
    assert out.strip().splitlines() == [out.strip()]
    assert out.startswith("completed: run ")


def test_failed_run_exits_1_with_one_line_naming_the_process(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project("bad", PIPELINE.replace("return sum(load)", "return 1 / 0"), "load total",
                 params={"size": 2})  # fmt: skip
    assert main(["run", "bad"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "failed: process 'total': ZeroDivisionError: division by zero" in err[0]
    assert "run `mlops run bad` again to resume" in err[0]
    assert main(["-v", "run", "bad"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing"], "project 'missing'"),
        (["run", "calc", "--only", "nope"], "--only nope: no such process"),
        (["run", "calc", "--from", "load", "--only", "total"], "cannot be used together"),
        (["run", "calc", "--executor", "gpu"], "invalid value for '--executor'"),
        (["run", "calc", "--only", "total"], "--only total needs the result of 'load'"),
    ],
    ids=["missing-project", "unknown-only", "from-and-only", "bad-executor", "only-uncached"],
)
def test_run_usage_errors_exit_2_and_record_nothing(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    make_project("calc", PIPELINE, "load total", params={"size": 2})
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message.lower() in err.lower()
    platform = MLPlatform()
    assert list_runs(platform.open_stores("calc", platform.load("calc")[1]).kv) == []


def test_a_run_reads_and_validates_its_config_once(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project("calc", PIPELINE, "load total", params={"size": 2})
    assert main(["run", "calc", "--local", "-vv"]) == 0
    validated = [line for line in capsys.readouterr().err.splitlines() if "validated" in line]
    assert validated == ["mlops: debug: validated projects/calc/configs/project_config.yaml"]


def test_the_debug_log_ends_with_its_command(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project("calc", PIPELINE, "load total", params={"size": 2})
    assert main(["-vv", "config", "calc", "validate", "--local"]) == 0
    assert "mlops: debug: validated" in capsys.readouterr().err
    make_project("other", PIPELINE, "load total", params={"size": 2})  # reads configs too
    assert main(["config", "calc", "get", "model.name"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "args",
    [["-q", "run", "calc"], ["run", "calc", "-q"], ["run", "-q", "calc"]],
    ids=["before", "after", "between"],
)
def test_global_flags_work_before_and_after_the_subcommand(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    make_project("calc", PIPELINE, "load total", params={"size": 2})
    assert main([*args, "--no-cache"]) == 0
    out = capsys.readouterr().out.strip()
    assert out.splitlines() == [out]
    assert out.startswith("completed: run ")


def test_workspace_given_after_the_subcommand_is_used(
    make_project: ProjectFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "elsewhere"
    assert main(["create", "away", "--workspace", str(other)]) == 0
    assert (other / "projects" / "away" / "configs" / "project_config.yaml").is_file()
    capsys.readouterr()
    assert main(["list", "--json", "--workspace", str(other)]) == 0
    assert [p["id"] for p in json.loads(capsys.readouterr().out)] == ["away"]


def test_job_run_takes_the_whole_request_as_json(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project("calc", PIPELINE, "load total", params={"size": 2})
    assert main(["run", "calc"]) == 0
    selected = {"project": "calc", "only": "total", "use_cache": False, "explain": True}
    assert main(["job", "run", "--request", json.dumps(selected)]) == 0
    explained = capsys.readouterr().out.splitlines()[-2]
    assert explained.split()[:2] == ["ran", "total"]
    assert explained.endswith("ran: selected by --only")
    overridden = {"project": "calc", "overrides": {"model.parameters.size": 3}, "verbosity": -1}
    assert main(["job", "run", "--request", json.dumps(overridden)]) == 0
    out = capsys.readouterr().out.strip()
    assert out.splitlines() == [out]
    platform = MLPlatform()
    runs = list_runs(platform.open_stores("calc").kv)
    assert [r["selection"]["only"] for r in runs] == [None, "total", None]
    newest = get_run(platform.open_stores("calc").kv, runs[-1]["run_id"])
    assert newest is not None
    assert newest["metrics"] == {"total.total": 3.0}


@pytest.mark.parametrize(
    ("request_json", "message"),
    [
        ("{not json", "run request: not json"),
        ('{"project": "calc", "colour": "red"}', "run request: unknown field 'colour'"),
        ("[1, 2]", "run request: expected a json object with a 'project'"),
        ('{"project": "calc", "use_cache": "no"}', "run request: use_cache: unexpected value 'no'"),
        ('{"project": "calc", "n_workers": true}', "run request: n_workers: unexpected value true"),
    ],
    ids=["not-json", "unknown-field", "not-an-object", "wrong-type", "bool-as-count"],
)
def test_a_bad_request_is_one_line_and_exit_2(
    make_project: ProjectFactory,
    capsys: pytest.CaptureFixture[str],
    request_json: str,
    message: str,
) -> None:
    make_project("calc", PIPELINE, "load total", params={"size": 2})
    assert main(["job", "run", "--request", request_json]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message in err.lower()


def test_unused_process_warning_is_one_line(
    make_project: ProjectFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    make_project("calc", PIPELINE, "load", params={"size": 2})
    assert main(["run", "calc"]) == 0
    err = capsys.readouterr().err
    assert err.strip() == (
        "mlops: warning: process 'total' is defined but not in the pipeline; it will not run"
    )


def test_quickstart_creates_runs_and_reuses(tmp_workspace: Path) -> None:
    code, out, _ = invoke("quickstart", "--name", "demo")
    assert code == 0, out
    assert "Created project demo from the custom template" in out
    assert "(4 ran)" in out
    assert "(4 reused)" in out
    assert (tmp_workspace / "projects" / "demo" / "outputs" / "report.md").is_file()
    code, out, _ = invoke("quickstart", "--name", "demo")
    assert code == 0
    assert "Using the existing project demo" in out


def test_custom_template_runs_through_the_console_script(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    assert run_mlops(workspace, "create", "demo", "--template", "custom").returncode == 0
    first = run_mlops(workspace, "run", "demo")
    assert first.returncode == 0, first.stderr
    assert "(4 ran)" in first.stdout
    report = (workspace / "projects" / "demo" / "outputs" / "report.md").read_text()
    assert "fitted line: y = 2.5" in report
    edit = run_mlops(workspace, "config", "demo", "set",
                     "model.parameters.pipeline.processes.fit.params.epochs=100")  # fmt: skip
    assert edit.returncode == 0, edit.stderr
    second = run_mlops(workspace, "run", "demo", "--explain")
    assert second.returncode == 0, second.stderr
    assert "reused   load" in second.stdout
    assert "reused   stats" in second.stdout
    assert "ran      fit" in second.stdout
    assert "parameters changed (epochs: 300 -> 100)" in second.stdout
    assert "ran      report" in second.stdout
    info = json.loads(run_mlops(workspace, "info", "demo", "--json").stdout)
    assert info["template"] == "custom"


def test_sklearn_template_is_deterministic_and_gated(tmp_workspace: Path) -> None:
    require("sklearn")
    require("matplotlib")
    platform = MLPlatform()
    platform.projects.create("wine", template="sklearn")
    first = platform.run_pipeline_for_project("wine")
    assert first.ok, {n: r.error for n, r in first.processes.items()}
    evaluation = first.result("evaluate")
    assert evaluation["accuracy"] >= 0.9
    assert len(evaluation["confusion_matrix"]) == 3
    charts = tmp_workspace / "projects" / "wine" / "outputs" / "charts" / first.run_id
    assert [c["status"] for c in first.charts] == ["rendered", "rendered"]
    for name in ("confusion_matrix", "metrics"):
        assert (charts / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = platform.run_pipeline_for_project("wine", use_cache=False)
    assert again.result("evaluate") == evaluation
    platform.projects.config_set(
        "wine", ["model.parameters.pipeline.processes.evaluate.params.min_accuracy=1.01"]
    )
    gated = platform.run_pipeline_for_project("wine")
    assert gated.failed_process == "evaluate"
    assert "QualityGateError: accuracy" in str(gated.processes["evaluate"].error)
    assert gated.charts == []
    assert gated.processes["train"].status.value == "cached"


def _quickstart_in(folder: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``mlops quickstart`` started in ``folder``, with no workspace chosen."""
    script = Path(sys.executable).parent / "mlops"
    argv = [str(script)] if script.exists() else [sys.executable, "-m", "mlops.main"]
    environ = {k: v for k, v in os.environ.items() if k != "MLOPS_WORKSPACE_DIR"}
    environ.update(HOME=str(home), XDG_DATA_HOME=str(home / "data"))
    return subprocess.run(
        [*argv, "quickstart", "--name", "tour"], cwd=folder, env=environ,
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def test_quickstart_in_the_mlops_checkout_writes_outside_it_and_says_where_first(
    tmp_path: Path,
) -> None:
    checkout = tmp_path / "mlops"
    (checkout / "src" / "mlops").mkdir(parents=True)
    (checkout / "src" / "mlops" / "__init__.py").write_text("")
    (checkout / "pyproject.toml").write_text("[project]\nname = 'mlops'\n")
    before = sorted(p.relative_to(checkout) for p in checkout.rglob("*"))

    done = _quickstart_in(checkout / "src", tmp_path / "home")
    assert done.returncode == 0, done.stderr
    home = tmp_path / "home" / "data" / "mlops" / "quickstart"
    assert done.stdout.splitlines()[0] == (
        f"Workspace: {home} (not the mlops source checkout {checkout})"
    )
    assert sorted(p.relative_to(checkout) for p in checkout.rglob("*")) == before
    assert (home / "projects" / "tour" / "outputs" / "report.md").is_file()
    assert f"`mlops --workspace {home} run tour --explain`" in done.stdout


def test_quickstart_elsewhere_says_where_it_writes_before_writing(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    done = _quickstart_in(folder, tmp_path / "home")
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()[:2]
    assert first == f"Workspace: {folder} (current directory)"
    assert second.startswith("Created project tour from the custom template at ")
    assert (folder / "projects" / "tour").is_dir()
    assert "`mlops run tour --explain`" in done.stdout
