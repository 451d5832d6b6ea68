"""MLflow's UI on a project's runs, opened as the README says: ``mlops exec NAME -- mlflow ui``.

The project's environment has the full ``mlflow`` (its requirements name it) and
wrote the tracking store; ``mlops exec`` starts that environment's ``mlflow ui``
on the store the runs wrote to, whichever MLflow (if any) the user's own
interpreter has. Headless Chromium then finds the run on MLflow's experiment
page. Runs in ``nox -s e2e`` (or with MLOPS_TEST_BROWSER=1): the environment
downloads MLflow's server dependencies once.
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
from pathlib import Path
from typing import Any

import pytest

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


def test_mlops_exec_opens_mlflows_ui_on_the_projects_runs(
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
    done = run_mlops(tmp_workspace, "run", "tracked", timeout=900)
    assert done.returncode == 0, done.stderr
    run_id = last_run("tracked")["run_id"]

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    script = Path(sys.executable).parent / "mlops"
    mlops = [str(script)] if script.exists() else [sys.executable, "-m", "mlops.main"]
    argv = [*mlops, "exec", "tracked", "-q", "--", "mlflow", "ui", "--host", "127.0.0.1",
            "--port", str(port)]  # fmt: skip
    env = {**os.environ, "MLOPS_WORKSPACE_DIR": str(tmp_workspace)}
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
            found = _get_json(
                f"{url}/api/2.0/mlflow/experiments/get-by-name?experiment_name=tracked"
            )
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
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(ui.pid, signal.SIGINT)
            try:
                ui.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(ui.pid, signal.SIGKILL)
                ui.wait(timeout=15)
