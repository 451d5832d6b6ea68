"""A batch job's run: ``mlops job run --project NAME``, alias ``process_runner``.

A job (a SLURM script, a scheduled container) runs one project's pipeline
with no terminal and no prompt, in the environment it was started in:

- inside a SLURM allocation, when neither ``--n-workers`` nor
  ``executor.n_workers`` is set, the CPUs SLURM granted size the executor;
- ``--training-data PATH`` replaces the ``--data-param`` parameter (default
  ``data_file``) with an absolute path: ``PATH`` as given when absolute, else
  under the project folder, else under the workspace (the first that exists).

It prints one line per run (:func:`summary`) and exits 0 when the run
completed, 1 when a process failed, 2 on a usage or config error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from mlops.cluster.batch_jobs import DEFAULT_DATA_PARAM, resolve_data_path, suggested_workers
from mlops.managers.loaded_project import LoadedProject
from mlops.runtime.request import RunRequest
from mlops.session.platform import RunReport


def with_training_data(
    request: RunRequest,
    *,
    project_dir: Path,
    workspace: Path,
    training_data: str | None,
    data_param: str = DEFAULT_DATA_PARAM,
) -> RunRequest:
    """``request`` with the training data path resolved into the ``data_param`` parameter."""
    if not training_data:
        return request
    data = resolve_data_path(training_data, project_dir=project_dir, workspace=workspace)
    return replace(
        request, overrides={**request.overrides, f"model.parameters.{data_param}": str(data)}
    )


def job_request(
    project: LoadedProject, request: RunRequest, *, environ: Mapping[str, str]
) -> RunRequest:
    """``request`` completed for a job: SLURM's CPUs size the executor when neither the
    request nor the config does."""
    configured = request.n_workers or project.config.executor.n_workers
    return replace(request, n_workers=suggested_workers(configured, environ), local=True)


def summary(report: RunReport) -> str:
    """One line: the run, its status, how many processes ran and were reused, the path."""
    counts: dict[str, int] = {}
    for record in report.processes.values():
        counts[record.status.value] = counts.get(record.status.value, 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    execution = report.record.get("execution") or {}
    where = execution.get("path", "local")
    if execution.get("provider"):
        where += f" ({execution['provider']})"
    line = f"run {report.run_id} {report.status.value} on {where}: {parts}"
    if report.failed_process:
        line += f"; failed: {report.failed_process}"
    return line


__all__ = ["job_request", "summary", "with_training_data"]
