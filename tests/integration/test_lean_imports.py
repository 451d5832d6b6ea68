"""What a run imports: nothing it does not use (each library costs start-up time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.cli import run_mlops
from fixtures.extras import require

#: Libraries a run of a plain project must not import: front ends, clusters,
#: trackers, numerics, the conda frontends (asyncio), the requirement parser.
HEAVY = [
    "asyncio", "dask", "distributed", "fastapi", "matplotlib", "mlflow", "numpy",
    "packaging", "pandas", "rattler", "redis", "sklearn", "starlette", "torch", "uvicorn",
]  # fmt: skip

PROBE = f"""
import json, runpy, sys
sys.argv = ["mlops", *sys.argv[1:]]
try:
    runpy.run_module("mlops.main", run_name="__main__")
except SystemExit as exit:
    status = exit.code
print(json.dumps([status, [m for m in {HEAVY!r} if m in sys.modules]]))
"""


def _imported(workspace: Path, *args: str) -> tuple[int, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False,
        env={**os.environ, "MLOPS_WORKSPACE_DIR": str(workspace)}, timeout=120,
    )  # fmt: skip
    status, modules = json.loads(done.stdout.splitlines()[-1])
    return status, modules


def test_a_run_of_a_new_project_imports_no_library_it_does_not_use(tmp_path: Path) -> None:
    assert run_mlops(tmp_path, "create", "lean").returncode == 0
    assert _imported(tmp_path, "run", "lean", "--local") == (0, [])  # runs its process
    assert _imported(tmp_path, "run", "lean", "--local") == (0, [])  # all cached


def test_a_cached_run_of_the_sklearn_template_imports_none_of_its_libraries(
    tmp_path: Path,
) -> None:
    require("sklearn")
    require("matplotlib")
    assert run_mlops(tmp_path, "create", "wine", "--template", "sklearn").returncode == 0
    first = run_mlops(tmp_path, "run", "wine", "--local", timeout=600)
    assert first.returncode == 0, first.stderr
    # Every process cached and every chart's inputs unchanged: nothing to import.
    assert _imported(tmp_path, "run", "wine", "--local") == (0, [])


#: What a worker process of the ``processes`` executor must not import to start:
#: the driver validated the config, so the schema (pydantic) and the YAML reader stay out.
WORKER_HEAVY = ["pydantic", "ruamel.yaml", *HEAVY]

WORKER_PIPELINE = f"""
import json, os, sys
from mlops import process

@process
def report():
    with open(os.environ["LEAN_REPORT"], "w") as out:
        json.dump([m for m in {WORKER_HEAVY!r} if m in sys.modules], out)
    return os.getpid()
"""


def test_a_worker_process_starts_without_the_config_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_mlops(tmp_path, "create", "lean").returncode == 0
    project = tmp_path / "projects" / "lean"
    (project / "src" / "pipeline.py").write_text(WORKER_PIPELINE, encoding="utf-8")
    (project / "configs" / "project_config.yaml").write_text(
        "model:\n  name: lean\n  parameters:\n    pipeline:\n      process_adjlist: report\n",
        encoding="utf-8",
    )
    report = tmp_path / "worker-modules.json"
    monkeypatch.setenv("LEAN_REPORT", str(report))  # run_mlops passes the environment on
    done = run_mlops(tmp_path, "run", "lean", "--local", "--executor", "processes")
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text(encoding="utf-8")) == []
