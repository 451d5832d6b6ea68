"""Real pyenv: what it selects and what it has installed (run in `nox -s pyenv`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops.environment.interpreters import find_python


def _pyenv(*args: str, cwd: Path | None = None) -> str:
    pyenv = shutil.which("pyenv")
    assert pyenv is not None, "pyenv session without pyenv"
    return subprocess.run(
        [pyenv, *args], capture_output=True, text=True, check=True, timeout=60, cwd=cwd
    ).stdout.strip()


@pytest.mark.pyenv
def test_real_pyenv_finds_an_installed_version_other_than_the_running_one() -> None:
    root = Path(_pyenv("root"))
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    versions = sorted(
        {".".join(p.name.split(".")[:2]) for p in (root / "versions").iterdir()} - {running}
    )
    candidates = [v for v in versions if v.startswith("3.") and v.split(".")[1].isdigit()]
    if not candidates:
        pytest.skip(f"pyenv has no CPython besides {running}")
    version = candidates[-1]
    hit = find_python(version, {"PATH": os.environ.get("PATH", "")}, root=root)
    assert hit.interpreter is not None, hit.describe_miss()
    out = subprocess.run(
        [str(hit.interpreter), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    assert out == version


@pytest.mark.pyenv
def test_real_pyenv_selects_a_working_interpreter(tmp_path: Path) -> None:
    chosen = Path(_pyenv("which", "python", cwd=tmp_path))
    assert chosen.exists()
    out = subprocess.run(
        [str(chosen), "-c", "print('ok')"], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out == "ok"
