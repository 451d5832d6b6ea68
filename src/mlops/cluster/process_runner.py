"""The entry point cluster jobs run: ``python -m mlops.cluster.process_runner --project NAME``.

It is ``mlops job run`` under the name batch scripts have used: the same
options, the same one-line summary and exit statuses (see
:mod:`mlops.session.batch_job`). Nothing of mlops imports this module: its
:func:`main` runs the command line, the top layer, as a console script does
(the one upward import, declared in the import contracts). What a job needs
from the cluster's side is :mod:`mlops.cluster.batch_jobs`, whose names are
here too under the names the platform's spec gives them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from mlops.cluster.batch_jobs import (
    DEFAULT_DATA_PARAM,
    SLURM_CPU_VARIABLES,
    resolve_data_path,
    slurm_cpus,
    suggested_workers,
)
from mlops.runtime.workspace import Workspace


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
