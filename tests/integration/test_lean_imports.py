"""What a run imports: nothing it does not use (each library costs start-up time)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fixtures.cli import run_mlops

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
