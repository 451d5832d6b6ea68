"""MLflow's UI on a project's runs, opened as the README says: ``mlops exec NAME -- mlflow ui``.

The project's environment has the full ``mlflow`` (its requirements name it) and
wrote the tracking store; ``mlops exec`` starts that environment's ``mlflow ui``
on the store the runs wrote to, whichever MLflow (if any) the user's own
interpreter has. Headless Chromium then finds the run on MLflow's experiment
page; pinning MLflow in the requirements then reruns nothing (tracking clients
are not part of any cache key). Runs in ``nox -s e2e`` (or with
MLOPS_TEST_BROWSER=1): the environment downloads MLflow's server dependencies once.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from fixtures.browser import CHROMIUM
from fixtures.cli import run_mlops
from fixtures.projects import TRACKED_PIPELINE, ProjectFactory, last_run
from fixtures.servers import answers_ok, free_port, wait_until

pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (the e2e dependency group)"
)
pytestmark = [
    pytest.mark.browser,
    pytest.mark.venv,
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="no Chromium (apt-get install chromium, or set MLOPS_CHROMIUM)"
    ),
]


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
        return json.load(response)


@contextlib.contextmanager
def mlflow_ui(workspace: Path, project: str) -> Iterator[str]:
    """``mlops exec PROJECT -- mlflow ui`` on a free loopback port, as a user starts it:
    its URL once it answers; stopped (with the workers it started) at the end."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    script = Path(sys.executable).parent / "mlops"
    mlops = [str(script)] if script.exists() else [sys.executable, "-m", "mlops.main"]
    argv = [*mlops, "exec", project, "-q", "--", "mlflow", "ui", "--host", "127.0.0.1",
            "--port", str(port)]  # fmt: skip
    env = {**os.environ, "MLOPS_WORKSPACE_DIR": str(workspace)}
    with tempfile.TemporaryFile() as log:
        # Its own session: mlflow ui starts workers, stopped with it as a group.
        ui = subprocess.Popen(argv, env=env, stdout=log, stderr=log, start_new_session=True)
        try:
            try:
                wait_until(functools.partial(answers_ok, f"{url}/health"), "mlflow ui", ui)
            except RuntimeError as exc:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-3000:]
                raise AssertionError(f"{exc}: {tail}") from None
            yield url
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(ui.pid, signal.SIGINT)
            try:
                ui.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(ui.pid, signal.SIGKILL)
                ui.wait(timeout=15)


def test_mlops_exec_opens_mlflows_ui_on_the_projects_runs_and_pinning_mlflow_reruns_nothing(
    make_project: ProjectFactory, tmp_workspace: Path, browser: Any, output_dir: Path
) -> None:
    make_project(
        "tracked", TRACKED_PIPELINE, {"train": ["evaluate"], "evaluate": []},
        params={"epochs": 3},
        extra={
            "environment": {"venv": {"requirements": ["mlflow"]}},
            "reproducibility": {"random_seed": 7, "experiment_tracking": {"backend": "mlflow"}},
        },
    )  # fmt: skip
    project = tmp_workspace / "projects" / "tracked"
    done = run_mlops(tmp_workspace, "run", "tracked", timeout=900)
    assert done.returncode == 0, done.stderr
    run_id = last_run("tracked")["run_id"]
    # MLflow's own CLI, run with `mlops exec`, finds the store the runs wrote to.
    listed = run_mlops(
        tmp_workspace, "exec", "tracked", "-q", "--", "mlflow", "experiments", "search"
    )
    assert listed.returncode == 0, listed.stderr
    assert "tracked" in listed.stdout.split()

    with mlflow_ui(tmp_workspace, "tracked") as url:
        found = _get_json(f"{url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=tracked")
        experiment = found["experiment"]["experiment_id"]
        # MLflow's page, not ours: the fixture `page` would fail on its own 404s
        # (it asks for a signed-in user the local server does not have).
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        try:
            page = context.new_page()
            page.goto(f"{url}/#/experiments/{experiment}/runs")
            page.get_by_text(run_id).first.wait_for(timeout=120_000)
            assert "1 matching run" in page.inner_text("body")
            page.screenshot(path=str(output_dir / "mlflow-ui.png"), full_page=True)
        finally:
            context.close()

    # Pinning MLflow in the requirements (to the version that wrote the store, as a user
    # matching the MLflow they open it with does: another version refuses the store's
    # schema) is another environment, but no process's result changes: all are reused.
    probe = "import importlib.metadata as m; print(m.version('mlflow'))"
    installed = run_mlops(tmp_workspace, "exec", "tracked", "-q", "--", "python", "-c", probe)
    assert installed.returncode == 0, installed.stderr
    config_file = project / "configs" / "project_config.yaml"
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    config["environment"]["venv"]["requirements"] = [f"mlflow=={installed.stdout.strip()}"]
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    again = run_mlops(tmp_workspace, "run", "tracked", timeout=900)
    assert again.returncode == 0, again.stderr
    assert "mlops: creating " in again.stderr  # built anew, for the new spec
    processes = last_run("tracked")["processes"]
    assert {name: p["cache_hit"] for name, p in processes.items()} == {
        "train": True,
        "evaluate": True,
    }, processes
