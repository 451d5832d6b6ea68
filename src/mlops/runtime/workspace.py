"""Where a workspace lives and how its folders are laid out.

A workspace is a folder holding ``projects/<id>/`` and mlops' own state in
``.mlops/`` (stores, environments, caches). Its root is chosen, in order, by:

1. an explicit argument (``mlops --workspace DIR``),
2. the ``MLOPS_WORKSPACE_DIR`` environment variable,
3. the nearest folder at or above the current directory holding ``.mlops/``
   (so commands work from inside a project, as git does from a subfolder),
4. the current directory.

Resolution never creates anything; :meth:`Workspace.ensure` does, on purpose.
Every function takes its inputs (environment, cwd) as optional arguments so
callers and tests can resolve without touching the process state.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import mlops
from mlops.errors import ProjectError, WorkspaceError

WORKSPACE_ENV_VAR = "MLOPS_WORKSPACE_DIR"
STATE_DIR_NAME = ".mlops"
#: A project's config file, relative to its folder.
CONFIG_RELATIVE_PATH = Path("configs") / "project_config.yaml"
PROJECTS_DIR_NAME = "projects"


class RootSource(StrEnum):
    """How the workspace root was chosen, for ``mlops workspace`` and error messages."""

    EXPLICIT = "explicit argument"
    ENVIRONMENT = f"${WORKSPACE_ENV_VAR}"
    MARKER = f"nearest folder with {STATE_DIR_NAME}/"
    CWD = "current directory"


@dataclass(frozen=True)
class Workspace:
    """A resolved workspace root and the folders derived from it."""

    root: Path
    source: RootSource

    @property
    def projects_dir(self) -> Path:
        return self.root / PROJECTS_DIR_NAME

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR_NAME

    @property
    def envs_dir(self) -> Path:
        return self.state_dir / "envs"

    @property
    def cache_dir(self) -> Path:
        return self.state_dir / "cache"

    def project_dir(self, project_id: str) -> Path:
        """``projects/<id>``, refused when it is a link to a folder outside ``projects/``.

        Every command reads, runs and rewrites what is in a project's folder, and
        deletes it: through such a link it would do so outside the workspace.
        """
        path = self.projects_dir / project_id
        if path.is_symlink():
            target = path.resolve()
            if target.parent != self.projects_dir.resolve():
                raise ProjectError(
                    f"project {project_id!r}: {PROJECTS_DIR_NAME}/{project_id} is a link to "
                    f"{target}, outside the workspace's {PROJECTS_DIR_NAME} folder",
                    hint=f"move the project into {self.projects_dir}, or remove the link",
                )
        return path

    def ensure(self) -> Workspace:
        """Create the workspace folders; an existing file in the way is an error."""
        for folder in (self.root, self.projects_dir, self.state_dir):
            if folder.exists() and not folder.is_dir():
                raise WorkspaceError(
                    f"workspace folder {folder} exists but is not a directory",
                    hint="move the file away or choose another --workspace",
                )
            folder.mkdir(parents=True, exist_ok=True)
        return self

    @classmethod
    def resolve(
        cls,
        explicit: str | os.PathLike[str] | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Workspace:
        """Resolve the workspace root by the rules in this module's docstring."""
        env = os.environ if environ is None else environ
        here = Path.cwd() if cwd is None else cwd
        if explicit is not None and str(explicit).strip():
            return cls(_absolute(Path(explicit), here, "--workspace"), RootSource.EXPLICIT)
        from_env = env.get(WORKSPACE_ENV_VAR, "").strip()
        if from_env:
            return cls(_absolute(Path(from_env), here, WORKSPACE_ENV_VAR), RootSource.ENVIRONMENT)
        marked = _nearest_marked_parent(here)
        if marked is not None:
            return cls(marked, RootSource.MARKER)
        return cls(here.resolve(), RootSource.CWD)


def _absolute(path: Path, cwd: Path, given_by: str) -> Path:
    resolved = (cwd / path.expanduser()).resolve()
    if resolved.exists() and not resolved.is_dir():
        raise WorkspaceError(
            f"workspace {resolved} (from {given_by}) is a file, not a directory",
            hint="point it at a directory; it is created when first used",
        )
    return resolved


def _nearest_marked_parent(start: Path) -> Path | None:
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / STATE_DIR_NAME).is_dir():
            return folder
    return None


def get_workspace_root(
    explicit: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Path:
    """The workspace root folder (see :meth:`Workspace.resolve`)."""
    return Workspace.resolve(explicit, environ=environ, cwd=cwd).root


def get_projects_root(
    explicit: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Path:
    """The folder holding one subfolder per project."""
    return Workspace.resolve(explicit, environ=environ, cwd=cwd).projects_dir


def mlops_checkout(start: Path) -> Path | None:
    """The source checkout of mlops itself at or above ``start`` (a folder holding
    ``pyproject.toml`` and ``src/mlops/__init__.py``), or None."""
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / "pyproject.toml").is_file() and (folder / "src/mlops/__init__.py").is_file():
            return folder
    return None


def quickstart_home(environ: Mapping[str, str] | None = None) -> Path:
    """Where ``mlops quickstart`` puts its workspace when started in mlops' own checkout:
    ``$XDG_DATA_HOME/mlops/quickstart``, else ``~/.local/share/mlops/quickstart``."""
    env = os.environ if environ is None else environ
    data = env.get("XDG_DATA_HOME", "").strip()
    base = Path(data) if data and Path(data).is_absolute() else Path.home() / ".local" / "share"
    return base / "mlops" / "quickstart"


def infer_source_root() -> Path:
    """The folder that contains the importable ``mlops`` package.

    Workers started elsewhere (cluster jobs, re-executed interpreters) put it
    on ``PYTHONPATH`` so they import the same mlops as the process that
    launched them, whether it is installed or run from a checkout.
    """
    return Path(mlops.__file__).resolve().parent.parent


__all__ = [
    "CONFIG_RELATIVE_PATH",
    "PROJECTS_DIR_NAME",
    "STATE_DIR_NAME",
    "WORKSPACE_ENV_VAR",
    "RootSource",
    "Workspace",
    "get_projects_root",
    "get_workspace_root",
    "infer_source_root",
    "mlops_checkout",
    "quickstart_home",
]
