"""Find Python interpreters for the test matrix, including pyenv installs that are not active.

nox looks for ``python3.12`` on ``PATH``. With pyenv, ``PATH`` holds shims that
exist for every installed version but refuse to run any version that is not
activated, so nox reports 3.12 "not found" although it is installed. We look
on ``PATH`` with the shims left out, then in ``$(pyenv root)/versions``, and
hand nox the absolute path we found. Every lookup records where it looked so
a miss can say so.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

# The lookup rules live in the package: the matrix finds interpreters as the managers do.
from mlops.environment.interpreters import (
    Lookup,
    Which,
    find_python,
    newest_pyenv_install,
    path_without_shims,
    which_on_path,
)


def pyenv_root(environ: Mapping[str, str], which: Which = which_on_path) -> Path | None:
    """The pyenv root: ``$PYENV_ROOT``, else ``pyenv root``, else None when pyenv is absent."""
    explicit = environ.get("PYENV_ROOT", "").strip()
    if explicit:
        return Path(explicit).expanduser()
    executable = which("pyenv", environ.get("PATH"))
    if executable is None:
        return None
    completed = subprocess.run(
        [executable, "root"], capture_output=True, text=True, check=False, env=dict(environ)
    )
    root = completed.stdout.strip()
    return Path(root) if completed.returncode == 0 and root else None


def pyenv_selected_python(
    environ: Mapping[str, str], cwd: Path, which: Which = which_on_path
) -> tuple[Path | None, str]:
    """The interpreter pyenv selects here (``PYENV_VERSION``, ``.python-version``, global).

    Returns the interpreter (or None) and a sentence saying what was found or
    what is missing.
    """
    executable = which("pyenv", environ.get("PATH"))
    if executable is None:
        return None, "pyenv is not on PATH; install pyenv and a Python >= 3.11 to run this session"
    completed = subprocess.run(
        [executable, "which", "python"],
        capture_output=True,
        text=True,
        check=False,
        env=dict(environ),
        cwd=cwd,
    )
    chosen = completed.stdout.strip()
    if completed.returncode != 0 or not chosen:
        reason = (completed.stderr.strip() or "no interpreter selected").splitlines()[0]
        return None, f"pyenv selects no usable python here: {reason}"
    return Path(chosen), f"pyenv selects {chosen}"


def allows_missing(version: str, allowed: str) -> bool:
    """Whether ``MLOPS_ALLOW_MISSING_PYTHONS`` covers ``version``.

    The value is a list (``"3.14"``, ``"3.13,3.14"``, ``"3.13 3.14"``) or ``"all"``.
    """
    names = {part.strip() for part in allowed.replace(" ", ",").split(",") if part.strip()}
    return "all" in names or version in names


__all__ = [
    "Lookup",
    "allows_missing",
    "find_python",
    "newest_pyenv_install",
    "path_without_shims",
    "pyenv_root",
    "pyenv_selected_python",
]
