"""The conda frontend this machine has (a binary, or py-rattler) builds a prefix that runs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mlops.environment import conda_commands as conda


@pytest.mark.conda
def test_real_frontend_builds_a_prefix_that_runs_python(tmp_path: Path) -> None:
    frontend = conda.find_frontend(conda.FRONTENDS, os.environ, shutil.which)
    assert frontend is not None, conda.INSTALL_HINT
    channel = os.environ.get("MLOPS_CONDA_CHANNEL", "conda-forge")
    prefix = tmp_path / "prefix"
    argv = conda.packages_argv(frontend, prefix, ["python"], [channel])
    subprocess.run(argv, check=True, capture_output=True, timeout=900)
    python = conda.prefix_python(prefix)
    out = subprocess.run(
        [str(python), "-c", "import sys; print(sys.prefix)"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    assert Path(out).resolve() == prefix.resolve()
