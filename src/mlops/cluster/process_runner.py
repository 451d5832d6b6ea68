"""The entry point cluster jobs run: ``python -m mlops.cluster.process_runner --project NAME``.

It is ``mlops job run`` under the name batch scripts have used: the same
options, the same one-line summary and exit statuses (see
:mod:`mlops.session.batch_job`). The command line is the top layer and this package
sits below it, so :func:`main` reaches it by name when called, as a console
script does; nothing here imports it.

What a job needs from the cluster's side lives here: the CPUs SLURM granted
(:func:`slurm_cpus`) and where ``--training-data`` points
(:func:`resolve_data_path`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlops.errors import ConfigError
from mlops.runtime.workspace import Workspace

SLURM_CPU_VARIABLES = ("SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE", "SLURM_JOB_CPUS_PER_NODE")
DEFAULT_DATA_PARAM = "data_file"


def slurm_cpus(environ: Mapping[str, str]) -> int | None:
    """The CPUs SLURM gave this job, from the first variable that holds a number."""
    for name in SLURM_CPU_VARIABLES:
        match = re.match(r"\s*(\d+)", environ.get(name, ""))
        if match and int(match.group(1)) > 0:
            return int(match.group(1))
    return None


def suggested_workers(configured: int | None, environ: Mapping[str, str]) -> int | None:
    """``configured`` when set, else SLURM's CPUs (None outside SLURM)."""
    return configured if configured is not None else slurm_cpus(environ)


def resolve_data_path(path: str, *, project_dir: Path, workspace: Path) -> Path:
    """``path`` as an absolute path: as given, else under the project, else the workspace."""
    given = Path(path).expanduser()
    candidates = [given] if given.is_absolute() else [project_dir / given, workspace / given]
    for candidate in candidates:
        if candidate.exists():
            return candidate.resolve()
    looked = ", ".join(str(c) for c in candidates)
    raise ConfigError(
        f"--training-data: {path} does not exist (looked at {looked})",
        hint="give an absolute path, or one relative to the project folder or the workspace",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """``mlops job run ARGS``: the exit status of the job.

    This package sits below the command line; this entry point alone reaches up
    to it, as a console script does (declared in the import contract).
    """
    from mlops.main import main as command_line

    return command_line(["job", "run", *(sys.argv[1:] if argv is None else argv)])


def __getattr__(name: str) -> Path:
    """``WORKSPACE_ROOT``: the workspace a job started here would use, resolved when read."""
    if name == "WORKSPACE_ROOT":
        return Workspace.resolve().root
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_DATA_PARAM",
    "SLURM_CPU_VARIABLES",
    "WORKSPACE_ROOT",  # noqa: F822 - module __getattr__
    "main",
    "resolve_data_path",
    "slurm_cpus",
    "suggested_workers",
]

if __name__ == "__main__":  # pragma: no cover - exercised as a subprocess
    sys.exit(main())
