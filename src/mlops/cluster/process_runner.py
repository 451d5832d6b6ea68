"""The entry point cluster jobs run: ``python -m mlops.cluster.process_runner --project NAME``.

A batch job (a SLURM script, a scheduled container) runs one project's
pipeline with no terminal and no prompt, in the environment it was started
in. This module reads its arguments, resolves the workspace (``--workspace``,
else ``$MLOPS_WORKSPACE_DIR``, else from the working directory), and runs the
pipeline locally or, with ``--cluster``, through the cluster controller.

- Inside a SLURM allocation, when neither ``--n-workers`` nor
  ``executor.n_workers`` is set, the CPUs SLURM granted
  (``SLURM_CPUS_PER_TASK``, else ``SLURM_CPUS_ON_NODE``, else the first of
  ``SLURM_JOB_CPUS_PER_NODE``) size the executor's workers.
- ``--from`` / ``--only`` are ``resume_from_process`` / ``single_process``.
- ``--training-data PATH`` replaces the ``--data-param`` parameter (default
  ``data_file``) with an absolute path: ``PATH`` as given when absolute, else
  under the project folder, else under the workspace (the first that exists).

It prints one line per run (``run <id> <status>: ...``) and exits 0 when the
run completed, 1 when a process failed, 2 on a usage or config error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from mlops.core.executors import EXECUTOR_KINDS
from mlops.errors import ConfigError, ExitCode, MlopsError
from mlops.platform import MLPlatform, RunReport
from mlops.runtime.messages import warnings_as_lines
from mlops.runtime.request import RunRequest
from mlops.runtime.workspace import Workspace

SLURM_CPU_VARIABLES = ("SLURM_CPUS_PER_TASK", "SLURM_CPUS_ON_NODE", "SLURM_JOB_CPUS_PER_NODE")
DEFAULT_DATA_PARAM = "data_file"


@dataclass(frozen=True)
class RunnerArgs:
    project: str
    workspace: str | None = None
    resume_from_process: str | None = None
    single_process: str | None = None
    use_cache: bool = True
    executor: str | None = None
    n_workers: int | None = None
    cluster: str | None = None
    scheduler_address: str | None = None
    training_data: str | None = None
    data_param: str = DEFAULT_DATA_PARAM
    run_id: str | None = None


class _Parser(argparse.ArgumentParser):
    """Usage mistakes become a ConfigError (one line, exit 2), not argparse's usage dump."""

    def error(self, message: str) -> NoReturn:
        raise ConfigError(f"process_runner: {message}", hint="see --help")


def parser() -> argparse.ArgumentParser:
    parse = _Parser(
        prog="python -m mlops.cluster.process_runner",
        description="Run one project's pipeline (the entry point of cluster and batch jobs).",
    )
    parse.add_argument("--project", required=True, help="the project id")
    parse.add_argument("--workspace", help="the workspace folder (default: $MLOPS_WORKSPACE_DIR)")
    parse.add_argument(
        "--from",
        dest="resume_from_process",
        metavar="PROCESS",
        help="rerun PROCESS and everything after it",
    )
    parse.add_argument(
        "--only",
        dest="single_process",
        metavar="PROCESS",
        help="run only PROCESS (its inputs must be cached)",
    )
    parse.add_argument(
        "--no-cache",
        dest="use_cache",
        action="store_false",
        help="run every process; reuse nothing",
    )
    parse.add_argument("--executor", choices=[k for k in EXECUTOR_KINDS if k != "dask"])
    parse.add_argument("--n-workers", type=int, help="executor workers (default: SLURM's CPUs)")
    parse.add_argument(
        "--cluster",
        choices=["local", "ansible", "slurm"],
        help="run on a Dask cluster from this provider",
    )
    parse.add_argument(
        "--scheduler",
        dest="scheduler_address",
        metavar="ADDRESS",
        help="the scheduler of the ansible provider",
    )
    parse.add_argument("--training-data", metavar="PATH", help="the data the run trains on")
    parse.add_argument(
        "--data-param",
        default=DEFAULT_DATA_PARAM,
        metavar="NAME",
        help="the parameter --training-data sets (default: %(default)s)",
    )
    parse.add_argument("--run-id", help="the id of the run (default: a new one)")
    return parse  # fmt: skip


def parse_args(argv: Sequence[str]) -> RunnerArgs:
    """Parsed arguments; a usage error raises ConfigError (exit 2), not SystemExit."""
    namespace = parser().parse_args(list(argv))
    if namespace.n_workers is not None and namespace.n_workers < 1:
        raise ConfigError(f"--n-workers: expected at least 1, found {namespace.n_workers}")
    return RunnerArgs(**vars(namespace))


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


def request_for(
    args: RunnerArgs,
    *,
    project_dir: Path,
    workspace: Path,
    configured_workers: int | None,
    environ: Mapping[str, str],
) -> RunRequest:
    """The run request ``args`` describe (paths resolved, SLURM's CPUs applied)."""
    overrides = {}
    if args.training_data:
        data = resolve_data_path(args.training_data, project_dir=project_dir, workspace=workspace)
        overrides[args.data_param] = str(data)
    return RunRequest(
        args.project,
        from_process=args.resume_from_process,
        only=args.single_process,
        use_cache=args.use_cache,
        executor=args.executor,
        n_workers=args.n_workers or suggested_workers(configured_workers, environ),
        cluster=args.cluster,
        scheduler=args.scheduler_address,
        overrides=overrides,
        run_id=args.run_id,
        local=True,
    )


def run(args: RunnerArgs, *, environ: Mapping[str, str] | None = None) -> RunReport:
    """Run the project as ``args`` say; MlopsError for every usage or config problem."""
    env = os.environ if environ is None else environ
    platform = MLPlatform(Workspace.resolve(args.workspace, environ=env))
    project = platform.load_project(args.project)
    request = request_for(
        args,
        project_dir=project.path,
        workspace=platform.workspace.root,
        configured_workers=project.config.executor.n_workers,
        environ=env,
    )
    return platform.execute(request, project)


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


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        with warnings_as_lines(sys.stderr):
            report = run(args)
    except MlopsError as exc:
        sys.stderr.write(f"mlops: error: {exc.one_line()}\n")
        return int(exc.exit_code)
    sys.stdout.write(summary(report) + "\n")
    sys.stdout.flush()
    return int(ExitCode.OK if report.ok else ExitCode.RUN_FAILED)


def __getattr__(name: str) -> Path:
    """``WORKSPACE_ROOT``: the workspace a job started here would use, resolved when read."""
    if name == "WORKSPACE_ROOT":
        return Workspace.resolve().root
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


if __name__ == "__main__":  # pragma: no cover - exercised as a subprocess
    sys.exit(main())
