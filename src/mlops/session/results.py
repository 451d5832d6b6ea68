"""``mlops.load_result``: a process's result from the cache, in a notebook or a script.

    >>> import mlops
    >>> model = mlops.load_result("wine", "train")              # the latest run's
    >>> split = mlops.load_result("wine", "split", run="previous")

The result is the one the named run produced or reused: the cache entry its
record points at, read from the project's object store. Reading never runs
anything and never changes the workspace.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mlops.cache.step_state_manager import StepStateManager
from mlops.errors import ConfigError, ExecutionError
from mlops.runtime.workspace import Workspace
from mlops.session.platform import MLPlatform
from mlops.storage.interfaces.object_store import ObjectNotFoundError
from mlops.tracking.run_history import load_run
from mlops.tracking.run_records import list_runs
from mlops.tracking.status import ProcessStatus

_FINISHED_OK = {status.value for status in ProcessStatus if status.finished_ok}


def load_result(
    project: str, process: str, run: str | None = None, *, workspace: str | Path | None = None
) -> Any:
    """The result of ``process`` in ``run`` (an id, a prefix, ``latest`` or ``previous``;
    None: the newest run in which it completed or was reused) of ``project``.

    ``workspace`` defaults to the one the command line would use
    (``$MLOPS_WORKSPACE_DIR``, else the nearest folder with ``.mlops/``).
    """
    platform = MLPlatform(Workspace.resolve(workspace))
    stores = platform.open_stores(project)
    try:
        if run is None:
            record = _newest_with(stores.kv, project, process)
        else:
            record = load_run(stores.kv, run, project)
        document = (record.get("processes") or {}).get(process)
        if document is None:
            raise ConfigError(
                f"run {record['run_id']} of {project} has no process {process!r}",
                hint="processes: " + ", ".join(record.get("processes") or {}),
            )
        if document.get("status") not in _FINISHED_OK or not document.get("key"):
            raise ConfigError(
                f"process {process!r} did not complete in run {record['run_id']} "
                f"({document.get('status')}): it has no result"
            )
        state = StepStateManager(stores.kv, stores.objects)
        entry = state.lookup(str(document["key"]))
        if entry is None:
            raise ConfigError(
                f"the result of {process!r} in run {record['run_id']} is no longer in the cache",
                hint=f"run `mlops run {project}` to compute it again",
            )
        try:
            return state.load(entry)
        except ExecutionError as exc:
            if isinstance(exc.__cause__, ObjectNotFoundError):
                raise  # its bytes are gone: says so, with the way to make them again
            raise _unloadable(exc, project, process, str(record["run_id"])) from exc
    finally:
        stores.objects.close()
        stores.kv.close()


def _unloadable(error: ExecutionError, project: str, process: str, run_id: str) -> ExecutionError:
    """What a result this interpreter cannot unpickle needs, and the way into the
    project's environment, where it was made."""
    cause = error.__cause__
    what = f"cannot load the result of process {process!r} (run {run_id} of {project})"
    into = (
        f"`mlops shell {project}` opens Python in the project's environment, "
        f"`mlops exec {project} -- CMD` runs a command (a notebook server) there"
    )
    if isinstance(cause, ModuleNotFoundError) and cause.name:
        return ExecutionError(
            f"{what}: it needs the module {cause.name!r}, which this Python "
            f"({sys.executable}) does not have",
            hint=into,
        )
    return ExecutionError(
        f"{what}: {cause or error}",
        hint=f"it may need other versions of its libraries than this Python has: {into}",
    )


def _newest_with(kv: Any, project: str, process: str) -> dict[str, Any]:
    for summary in reversed(list_runs(kv)):
        record = load_run(kv, str(summary["run_id"]), project)
        if (record.get("processes") or {}).get(process, {}).get("status") in _FINISHED_OK:
            return record
    raise ConfigError(
        f"no run of {project} has a result of {process!r}",
        hint=f"run it with `mlops run {project}`",
    )


__all__ = ["load_result"]
