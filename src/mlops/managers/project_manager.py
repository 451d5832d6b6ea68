"""Projects in a workspace: create, list, inspect, configure, delete.

Every change is atomic and locked. A project folder is assembled in a temp
folder and renamed into place; config edits are validated in full before the
file is replaced (a bad edit leaves the file as it was); the index
(``.mlops/projects.json``) is rewritten under a lock, so concurrent ``create``
and ``config set`` lose nothing. Config edits go through ruamel.yaml's
round-trip mode, keeping the user's comments, key order and quoting.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap

from mlops.config.schema import (
    CONFIG_RELATIVE_PATH,
    ProjectConfig,
    dump_yaml,
    load_project_config,
    parse_scalar,
    parse_yaml,
    plain_data,
    validate_project_config,
)
from mlops.config.yaml_files import read_user_text, read_yaml_file
from mlops.environment.launch import LaunchCache
from mlops.errors import ConfigError, GraphError, ProjectError
from mlops.managers.loaded_project import LoadedProject
from mlops.managers.templates import render_template, template_names
from mlops.runtime.clock import utc_now
from mlops.runtime.project_ids import PROJECT_ID, check_project_id
from mlops.runtime.workspace import Workspace
from mlops.storage.atomic import atomic_write_text
from mlops.storage.file_locks import file_lock

INDEX_FILE = "projects.json"


@dataclass(frozen=True)
class ProjectInfo:
    id: str
    path: Path
    created_at: str | None
    template: str | None
    framework: str | None
    valid: bool
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data


def check_key(key: str, text: str | None = None) -> str:
    """``key`` when it is a dotted config key (``model.parameters.x``)."""
    if not key or any(not part.strip() for part in key.split(".")):
        where = f" in {text!r}" if text is not None else ""
        raise ConfigError(
            f"bad key {key!r}{where}: empty part between dots",
            hint="for example model.parameters.test_size=0.3",
        )
    return key


def parse_assignment(text: str) -> tuple[str, Any]:
    """``a.b.c=value`` -> (``a.b.c``, value parsed as YAML: scalars, lists, mappings)."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(
            f"bad assignment {text!r}: expected KEY=VALUE", hint="for example model.version=1.2"
        )
    check_key(key, text)
    value = parse_scalar(raw, repr(text)) if raw.strip() else ""
    return key, value


class ProjectManager:
    """Projects of one workspace."""

    def __init__(self, workspace: Workspace | None = None) -> None:
        self.workspace = workspace or Workspace.resolve()

    # ------------------------------------------------------------------ paths and locks

    @property
    def index_path(self) -> Path:
        return self.workspace.state_dir / INDEX_FILE

    def project_dir(self, project_id: str) -> Path:
        return self.workspace.project_dir(check_project_id(project_id))

    def config_path(self, project_id: str) -> Path:
        return self.project_dir(project_id) / CONFIG_RELATIVE_PATH

    def _lock(self, name: str, what: str) -> Any:
        return file_lock(self.workspace.state_dir / "locks" / f"{name}.lock", what=what)

    def _project_lock(self, project_id: str) -> Any:
        # The id names a file: only a valid one may, or `../x` would lock outside the workspace.
        check_project_id(project_id)
        return self._lock(f"project-{project_id}", f"project {project_id!r}")

    def display_config_path(self, project_id: str) -> str:
        """The config file's path as messages show it (relative to the workspace)."""
        return self._display(self.config_path(project_id))

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.workspace.root))
        except ValueError:
            return str(path)

    # ------------------------------------------------------------------ index

    def _read_index(self) -> dict[str, dict[str, Any]]:
        if not self.index_path.is_file():
            return {}
        try:
            data = json.loads(self.index_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ProjectError(
                f"project index {self.index_path} is unreadable: {exc}",
                hint="delete it; mlops rebuilds it from the projects folder",
            ) from exc
        projects = data.get("projects", {}) if isinstance(data, dict) else {}
        return {str(k): dict(v) for k, v in projects.items() if isinstance(v, dict)}

    def _write_index(self, projects: Mapping[str, Mapping[str, Any]]) -> None:
        text = json.dumps({"version": 1, "projects": dict(sorted(projects.items()))}, indent=2)
        atomic_write_text(self.index_path, text + "\n")

    def _update_index(self, change: Callable[[dict[str, dict[str, Any]]], None]) -> None:
        with self._lock("index", "the project index"):
            projects = self._read_index()
            change(projects)
            self._write_index(projects)

    # ------------------------------------------------------------------ queries

    def exists(self, project_id: str) -> bool:
        """True when the project's folder exists (with or without a config file)."""
        return self.project_dir(project_id).is_dir()

    def require(self, project_id: str, *, config: bool = True) -> Path:
        """The project's folder; a missing project is an error listing what exists.

        With ``config``, a folder whose config file is gone is an error too,
        naming the two ways out (restore the file, or delete the project).
        """
        if not self.exists(project_id):
            known = [p.id for p in self.list()]
            hint = (
                f"existing projects: {', '.join(known)}"
                if known
                else "create it with `mlops create NAME`"
            )
            raise ProjectError(
                f"no project {project_id!r} in workspace {self.workspace.root}", hint=hint
            )
        if config and not self.config_path(project_id).is_file():
            raise self._no_config(project_id)
        return self.project_dir(project_id)

    def _no_config(self, project_id: str) -> ProjectError:
        path = self.config_path(project_id)
        shown = self.display_config_path(project_id)
        # Something else in its place: a FIFO, a device, a folder, a broken link.
        there = path.exists() or path.is_symlink()
        problem = f": {shown} is not a regular file" if there else f" has no config file {shown}"
        return ProjectError(
            f"project {project_id!r}{problem}",
            hint=f"restore it, or remove the project with `mlops delete {project_id} --force`",
        )

    def list(self) -> list[ProjectInfo]:
        """Every project: those in the index and any folder with a config made by hand."""
        index = self._read_index()
        ids = set(index)
        if self.workspace.projects_dir.is_dir():
            ids |= {
                p.name
                for p in self.workspace.projects_dir.iterdir()
                if p.is_dir() and PROJECT_ID.match(p.name)
            }
        return [self._info(pid, index.get(pid, {})) for pid in sorted(ids) if self._present(pid)]

    def _present(self, project_id: str) -> bool:
        # A folder, or a link in its place (listed as invalid, with the reason).
        try:
            path = self.workspace.projects_dir / check_project_id(project_id)
        except ProjectError:
            return False
        return path.is_dir() or path.is_symlink()

    def info(self, project_id: str) -> ProjectInfo:
        self.require(project_id)
        return self._info(project_id, self._read_index().get(project_id, {}))

    def _info(self, project_id: str, entry: Mapping[str, Any]) -> ProjectInfo:
        path = self.workspace.projects_dir / project_id
        try:
            config = self.load_config(project_id)
        except (ConfigError, GraphError, ProjectError) as exc:
            return ProjectInfo(
                project_id, path, entry.get("created_at"), entry.get("template"), None, False,
                exc.one_line(),
            )  # fmt: skip
        return ProjectInfo(
            project_id, path, entry.get("created_at"), entry.get("template"),
            config.model.framework, True,
        )  # fmt: skip

    def load_config(self, project_id: str) -> ProjectConfig:
        path = self.require(project_id) / CONFIG_RELATIVE_PATH
        return load_project_config(path, display=self._display(path))

    def config_text(self, project_id: str) -> str:
        """The config file as the user wrote it (checked to be readable UTF-8 text)."""
        path = self.require(project_id) / CONFIG_RELATIVE_PATH
        try:
            return read_user_text(path, self._display(path))
        except FileNotFoundError as exc:
            raise self._no_config(project_id) from exc

    def load(self, project_id: str, overrides: Mapping[str, Any] | None = None) -> LoadedProject:
        """The project, its config read and validated (graph included): once per command.

        ``overrides`` (dotted key -> value, as ``mlops run --set`` gives them)
        replace values of the config for this command only; the file is not
        touched, and a mistake in them is reported like one in the file.
        """
        path = self.require(project_id)
        display = self.display_config_path(project_id)
        if not overrides:
            return LoadedProject(project_id, path, self.load_config(project_id), display)
        config_path, data = self._read_document(project_id)
        for key, value in overrides.items():
            _assign(data, check_key(key).split("."), value)
        config = validate_project_config(data, f"{self._display(config_path)} with --set")
        return LoadedProject(project_id, path, config, display, dict(overrides))

    # ------------------------------------------------------------------ create and delete

    def create(self, project_id: str, template: str | None = None) -> ProjectInfo:
        """Create ``projects/<id>`` from ``template`` (None: a minimal project)."""
        check_project_id(project_id)
        if template is not None and template not in template_names():
            available = ", ".join(template_names()) or "none installed"
            raise ProjectError(f"unknown template {template!r}", hint=f"available: {available}")
        target = self.workspace.project_dir(project_id)
        self.workspace.ensure()
        with self._project_lock(project_id):
            if target.exists():
                raise ProjectError(
                    f"project {project_id!r} already exists at {target}",
                    hint="choose another name or `mlops delete` it first",
                )
            staging = self.workspace.projects_dir / f".creating-{project_id}-{uuid.uuid4().hex[:8]}"
            try:
                render_template(template, staging, {"project_id": project_id})
                validate_project_config(
                    parse_yaml(
                        (staging / CONFIG_RELATIVE_PATH).read_text(encoding="utf-8"),
                        str(CONFIG_RELATIVE_PATH),
                    ),
                    f"template {template or 'minimal'}",
                )
                staging.rename(target)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            created = utc_now("seconds")

            def add(projects: dict[str, dict[str, Any]]) -> None:
                projects[project_id] = {"created_at": created, "template": template}

            try:
                self._update_index(add)
            except BaseException:
                shutil.rmtree(target, ignore_errors=True)
                raise
        return self.info(project_id)

    def delete(
        self,
        project_id: str,
        *,
        force: bool = False,
        confirm: Callable[[str], bool] | None = None,
    ) -> bool:
        """Delete the project; without ``force``, ``confirm(question)`` must say yes.

        Returns False when the user declined (nothing changed).
        """
        target = self.require(project_id, config=False)
        if not force:
            question = f"Delete project {project_id!r} and everything under {target}?"
            if confirm is None or not confirm(question):
                return False
        with self._project_lock(project_id):
            trash = self.workspace.projects_dir / f".deleting-{project_id}-{uuid.uuid4().hex[:8]}"
            target.rename(trash)  # the project disappears at once, even if rmtree is slow

            def remove(projects: dict[str, dict[str, Any]]) -> None:
                projects.pop(project_id, None)

            self._update_index(remove)
            LaunchCache(self.workspace).forget(project_id)
            shutil.rmtree(trash, ignore_errors=True)
        return True

    # ------------------------------------------------------------------ configuration

    def _read_document(self, project_id: str) -> tuple[Path, CommentedMap]:
        path = self.require(project_id) / CONFIG_RELATIVE_PATH
        try:
            data = read_yaml_file(path, self._display(path))
        except FileNotFoundError as exc:
            raise self._no_config(project_id) from exc
        if not isinstance(data, CommentedMap):
            validate_project_config(data, self._display(path))  # raises the precise error
        return path, data

    def config_get(self, project_id: str, key: str | None = None) -> Any:
        """The value at dotted ``key`` (the whole config when None), as plain data."""
        path, data = self._read_document(project_id)
        node: Any = data
        if key:
            walked: list[str] = []
            for part in key.split("."):
                if not isinstance(node, Mapping) or part not in node:
                    here = ".".join(walked) or "the top level"
                    keys = ", ".join(map(str, node)) if isinstance(node, Mapping) else "none"
                    raise ConfigError(
                        f"{self._display(path)}: no key {key!r} (nothing at {part!r} under {here})",
                        hint=f"keys there: {keys}",
                    )
                walked.append(part)
                node = node[part]
        return plain_data(node)

    def config_set(self, project_id: str, assignments: Iterable[str]) -> ProjectConfig:
        """Apply ``a.b.c=value`` assignments, validate the result, then write it atomically."""
        parsed = [parse_assignment(text) for text in assignments]
        if not parsed:
            raise ConfigError("nothing to set", hint="give KEY=VALUE, for example model.version=2")

        def apply(data: CommentedMap) -> None:
            for key, value in parsed:
                _assign(data, key.split("."), value)

        return self._edit(project_id, apply)

    def config_merge(self, project_id: str, source: Path) -> ProjectConfig:
        """Deep-merge a YAML file into the config (mappings merge, other values replace)."""
        try:
            patch = read_yaml_file(source, str(source))
        except FileNotFoundError as exc:
            raise ConfigError(f"{source}: cannot read the file: no such file") from exc
        if not isinstance(patch, Mapping):
            raise ConfigError(f"{source}: expected a mapping of settings to merge")
        return self._edit(project_id, lambda data: _merge(data, patch))

    def _edit(self, project_id: str, change: Callable[[CommentedMap], None]) -> ProjectConfig:
        # A rehearsal first, without the lock: a mistake then changes nothing on disk, not
        # even a lock file. The real edit reads the file again under the lock.
        path, data = self._read_document(project_id)
        change(data)
        validate_project_config(data, self._display(path))
        with self._project_lock(project_id):
            path, data = self._read_document(project_id)
            change(data)
            config = validate_project_config(data, self._display(path))
            atomic_write_text(path, dump_yaml(data))
        return config


def _assign(data: CommentedMap, parts: list[str], value: Any) -> None:
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part) if isinstance(node, Mapping) else None
        if child is None:
            child = CommentedMap()
            node[part] = child
        elif not isinstance(child, Mapping):
            where = ".".join(parts[: depth + 1])
            raise ConfigError(
                f"cannot set {'.'.join(parts)}: {where} holds {child!r}, not a mapping"
            )
        node = child
    node[parts[-1]] = value


def _merge(base: Any, patch: Mapping[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), Mapping):
            _merge(base[key], value)
        else:
            base[key] = value


__all__ = [
    "ProjectInfo",
    "ProjectManager",
    "check_key",
    "check_project_id",
    "parse_assignment",
]
