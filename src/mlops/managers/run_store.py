"""Where a project's runs are, without loading the whole project.

Reading the history (``mlops runs``) needs one thing from the config: the
``storage.kv`` section, checked as a run checks it. The rest of the config is
not read, so the history can be listed while another section has a mistake,
and quickly (the full schema is not built).
"""

from __future__ import annotations

from collections.abc import Mapping

from mlops.config.yaml_files import plain_data, read_yaml_file
from mlops.errors import ProjectError
from mlops.runtime.project_ids import check_project_id
from mlops.runtime.workspace import CONFIG_RELATIVE_PATH, Workspace
from mlops.storage.backends.sqlite_kv import DEFAULT_FILE, SqliteKVStore
from mlops.storage.interfaces.kv_store import KVStore


def open_runs_store(workspace: Workspace, project_id: str) -> KVStore:
    """The KV store holding ``project_id``'s runs (its ``storage.kv``, namespaced by id)."""
    folder = workspace.project_dir(check_project_id(project_id))
    path = folder / CONFIG_RELATIVE_PATH
    display = f"{workspace.projects_dir.name}/{project_id}/{CONFIG_RELATIVE_PATH.as_posix()}"
    try:
        data = read_yaml_file(path, display)
    except FileNotFoundError as exc:
        raise ProjectError(
            f"no project {project_id!r} in workspace {workspace.root}",
            hint="list the projects with `mlops list`",
        ) from exc
    storage = data.get("storage") if isinstance(data, Mapping) else None
    kv = storage.get("kv") if isinstance(storage, Mapping) else None
    state_dir = workspace.ensure().state_dir
    if kv is None:  # the default store: no options to check (and no schema to build)
        return SqliteKVStore(state_dir / DEFAULT_FILE, project_id)
    from mlops.config.storage import kv_options
    from mlops.storage.factory import create_kv_store

    options = kv_options(plain_data(kv), "storage.kv")
    return create_kv_store(options, state_dir=state_dir, namespace=project_id)


__all__ = ["open_runs_store"]
