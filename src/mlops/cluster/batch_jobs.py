"""What a batch job needs from the cluster's side: the CPUs SLURM granted
(:func:`slurm_cpus`), and where ``--training-data`` points (:func:`resolve_data_path`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from mlops.errors import ConfigError

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


__all__ = [
    "DEFAULT_DATA_PARAM",
    "SLURM_CPU_VARIABLES",
    "resolve_data_path",
    "slurm_cpus",
    "suggested_workers",
]
