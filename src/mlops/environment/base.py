"""Environment managers: from a spec to a ready interpreter, built once, found again by content.

A spec (python version, requirements, constraints, manager options) hashes to
``spec_hash``; a prefix-based environment lives at
``<workspace>/.mlops/envs/<manager>-<spec_hash>``. ``ensure()`` returns it,
building it first when needed.

Why the build runs in place instead of in a temp folder renamed into place:
virtual environments and conda prefixes are not relocatable (``pyvenv.cfg``,
console-script shebangs and conda's prefix replacement all embed the absolute
path), so a prefix built elsewhere would keep pointing at the temp folder.
Atomicity comes from the manifest instead: an environment exists only once
``mlops-env.json`` has been renamed into it, after everything installed. A
folder without a manifest is an interrupted build; the next ``ensure()``
removes it and builds again. A failed build removes its folder. A lock per
environment (with a timeout) makes two concurrent ``ensure()`` build once.

``runtime`` packages (mlops itself, so a run can re-execute inside the
environment) are not part of the spec hash: the environment is the user's
spec; the runtime recorded in the manifest is refreshed in place when mlops
changes.

What of the spec enters a process's cache key is ``key_hash``: the spec less
the tracking clients (:data:`KEY_NEUTRAL_PACKAGES`). They record what a run did;
no process computes with them. Adding ``mlflow`` to a project's requirements,
or pinning it to the version that wrote a tracking store so that MLflow's UI
can open the store, builds another environment but reuses every result.
"""

from __future__ import annotations

import abc
import hashlib
import json
import os
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from mlops.environment.prefixes import (
    PrefixKind,
    Requirements,
    bin_paths,
    environ_with_paths,
    install_argv,
    interpreter_path,
)
from mlops.environment.utils import CommandResult, CommandRunner, SubprocessRunner
from mlops.errors import EnvSetupError, StorageError
from mlops.runtime.clock import utc_now
from mlops.storage.atomic import atomic_write_text
from mlops.storage.file_locks import file_lock

MANIFEST_NAME = "mlops-env.json"
#: Requirements left out of cache keys: the tracking clients (see the module doc).
KEY_NEUTRAL_PACKAGES = frozenset({"mlflow", "mlflow-skinny", "mlflow-tracing"})
LOCKS_DIR_NAME = ".locks"
DEFAULT_BUILD_TIMEOUT_S = 1800.0


@dataclass(frozen=True)
class EnvironmentSpec:
    """What an environment must contain, resolved against its project folder."""

    #: Relative requirement paths and spec files are read (and installed) from here.
    project_dir: Path
    python: str | None = None
    requirements: Requirements = field(default_factory=Requirements)
    constraints_file: Path | None = None
    #: Manager-specific inputs that change the result (channels, conda deps, files...).
    options: Mapping[str, Any] = field(default_factory=dict)
    #: How to build, not what: tool chains, install permissions. Not hashed.
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: Packages mlops needs inside the environment; not part of the hash (see module doc).
    runtime: tuple[str, ...] = ()

    def fingerprint(self, manager: str) -> dict[str, Any]:
        return {
            "manager": manager,
            "python": self.python,
            "requirements": list(self.requirements.lines),
            "constraints": list(self.requirements.constraints),
            "files": dict(self.requirements.digests),
            "options": _jsonable(self.options),
        }

    def hash_for(self, manager: str) -> str:
        """The environment's identity: its folder's name, and what ``env list`` shows."""
        return _hash(self.fingerprint(manager))

    def key_hash(self, manager: str) -> str:
        """What of the environment a process's cache key holds: the spec less the
        tracking clients (equal to :meth:`hash_for` when no requirements file is read
        and no tracking client is named)."""
        fingerprint = self.fingerprint(manager)
        fingerprint["requirements"] = _key_relevant(fingerprint["requirements"])
        fingerprint["constraints"] = _key_relevant(fingerprint["constraints"])
        options = fingerprint["options"]
        if "dependencies" in options:  # conda's
            options["dependencies"] = _key_relevant(options["dependencies"])
        # A requirements file's lines are above: its digest would bring back the ones left out.
        fingerprint["files"] = {
            name: digest
            for name, digest in fingerprint["files"].items()
            if name not in self.requirements.sources
        }
        return _hash(fingerprint)


def _hash(fingerprint: Mapping[str, Any]) -> str:
    text = json.dumps(fingerprint, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _key_relevant(lines: Sequence[Any]) -> list[Any]:
    """``lines`` less the requirements naming a :data:`KEY_NEUTRAL_PACKAGES` package
    (pip's ``mlflow==3.1`` or ``mlflow[extras]``, conda's ``mlflow-skinny=3.1``)."""
    return [line for line in lines if _requirement_name(str(line)) not in KEY_NEUTRAL_PACKAGES]


def _requirement_name(line: str) -> str | None:
    match = _NAME.match(line)
    return re.sub(r"[-_.]+", "-", match.group(1)).lower() if match else None


_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?=\s*(?:[\[<>=!~;@ ]|$))")


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


@dataclass(frozen=True)
class Environment:
    """A ready environment: where its interpreter is and how to call it."""

    manager: str
    spec_hash: str
    python_path: Path
    bin_paths: tuple[Path, ...]
    prefix: Path | None
    kind: PrefixKind
    tool: str
    created: bool

    def environ(self, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` with this environment's tools first on PATH (activation, as data)."""
        return environ_with_paths(list(self.bin_paths), base, prefix=self.prefix, kind=self.kind)


class EnvironmentManager(abc.ABC):
    """One kind of environment (venv, conda, pyenv, system) for one spec."""

    name: ClassVar[str]
    kind: ClassVar[PrefixKind] = PrefixKind.VENV

    def __init__(
        self,
        spec: EnvironmentSpec,
        envs_dir: Path,
        *,
        runner: CommandRunner | None = None,
        environ: Mapping[str, str] | None = None,
        lock_timeout: float = DEFAULT_BUILD_TIMEOUT_S,
    ) -> None:
        self.spec = spec
        self.envs_dir = envs_dir
        self.runner: CommandRunner = runner or SubprocessRunner()
        self.environ: dict[str, str] = dict(os.environ if environ is None else environ)
        self.lock_timeout = lock_timeout
        #: Told each step of a build or an install as it starts (a line on the console).
        self.on_step: Callable[[str], None] | None = None
        #: Told each line a builder or installer prints as it prints it (live progress:
        #: what is being resolved, downloaded, installed).
        self.on_output: Callable[[str], None] | None = None

    def step(self, text: str) -> None:
        if self.on_step is not None:
            self.on_step(text)

    @property
    def spec_hash(self) -> str:
        return self.spec.hash_for(self.name)

    @property
    @abc.abstractmethod
    def python_path(self) -> Path: ...

    @property
    def prefix(self) -> Path | None:
        """The environment's own folder (None when it is not ours, as for system)."""
        return None

    @property
    @abc.abstractmethod
    def bin_paths(self) -> list[Path]: ...

    @abc.abstractmethod
    def exists(self) -> bool: ...

    @abc.abstractmethod
    def ensure(self) -> Environment: ...

    @abc.abstractmethod
    def remove(self) -> bool: ...

    def run(
        self, argv: Sequence[str], *, cwd: Path | None = None, timeout: float | None = None
    ) -> CommandResult:
        """Run ``argv`` with this environment's tools first on PATH."""
        env = environ_with_paths(self.bin_paths, self.environ, prefix=self.prefix, kind=self.kind)
        return self.runner.run(argv, env=env, cwd=cwd, timeout=timeout)

    def describe(self) -> dict[str, Any]:
        return {
            "manager": self.name,
            "spec_hash": self.spec_hash,
            "python": str(self.python_path),
            "exists": self.exists(),
            "spec": self.spec.fingerprint(self.name),
        }

    # ------------------------------------------------------------------ installing

    def install_tool(self) -> str:
        """``uv`` when it is on PATH, else ``pip`` (inside the target interpreter)."""
        return "uv" if self.runner.which("uv", self.environ) else "pip"

    @property
    def compiles_bytecode(self) -> bool:
        """Whether installs compile every module up front (see ARCHITECTURE, environments).

        Only where the runs cannot write bytecode (``PYTHONDONTWRITEBYTECODE``):
        there every start would compile what it imports again. Elsewhere Python
        compiles a module once, the first time it is imported, which costs a
        first run a fraction of compiling the whole environment at install.
        """
        return bool(self.environ.get("PYTHONDONTWRITEBYTECODE"))

    def install_with_runtime(self, python: Path, tool: str, requirements: Sequence[str]) -> None:
        """The project's ``requirements`` and mlops's runtime, in one install: one resolve."""
        self.install_packages(python, tool, [*requirements, *self.spec.runtime])

    def install_packages(self, python: Path, tool: str, packages: Sequence[str]) -> None:
        """Install ``packages`` (requirement lines, options split as pip reads them)."""
        if not packages:
            return
        args = [arg for line in packages for arg in shlex.split(line)]
        shown = ", ".join(args[:6]) + (f" and {len(args) - 6} more" if len(args) > 6 else "")
        self.step(f"installing with {tool}: {shown}")
        constraints = [self.spec.constraints_file] if self.spec.constraints_file else []
        argv = install_argv(
            tool, python, args, constraints, compile_bytecode=self.compiles_bytecode
        )
        env = {**self.environ, "UV_PYTHON_DOWNLOADS": "never", "PIP_NO_INPUT": "1"}
        self.runner.run(argv, env=env, cwd=self.spec.project_dir, on_line=self.on_output)


class PrefixEnvironmentManager(EnvironmentManager):
    """An environment in its own folder under ``envs_dir``, built under a lock."""

    @property
    def path(self) -> Path:
        return self.envs_dir / f"{self.name}-{self.spec_hash}"

    @property
    def prefix(self) -> Path:
        return self.path

    @property
    def manifest_path(self) -> Path:
        return self.path / MANIFEST_NAME

    @property
    def python_path(self) -> Path:
        return interpreter_path(self.path, self.kind)

    @property
    def bin_paths(self) -> list[Path]:
        return bin_paths(self.path, self.kind)

    def manifest(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def exists(self) -> bool:
        return self.manifest() is not None and self.python_path.exists()

    def ensure(self) -> Environment:
        manifest = self.manifest()
        if manifest is not None and self.python_path.exists() and self._has_runtime(manifest):
            return self._environment(manifest, created=False)
        lock = self.envs_dir / LOCKS_DIR_NAME / f"{self.path.name}.lock"
        try:
            with file_lock(lock, timeout=self.lock_timeout, what=f"environment {self.path.name}"):
                return self._ensure_locked()
        except StorageError as exc:
            raise EnvSetupError(exc.message, hint=exc.hint) from exc

    def _has_runtime(self, manifest: Mapping[str, Any]) -> bool:
        return list(manifest.get("runtime", [])) == list(self.spec.runtime)

    def _ensure_locked(self) -> Environment:
        manifest = self.manifest()
        if manifest is not None and self.python_path.exists():
            if not self._has_runtime(manifest):  # mlops changed: refresh it in place
                self.step(f"updating mlops in {self.path.name}")
                self.install_packages(self.python_path, manifest["tool"], self.spec.runtime)
                manifest = {**manifest, "runtime": list(self.spec.runtime)}
                self._write_manifest(manifest)
            return self._environment(manifest, created=False)
        if self.path.exists():  # an interrupted build: start again
            shutil.rmtree(self.path)
        try:
            self.step(f"creating {self.path}")
            tool = self.build()
            manifest = {
                "manager": self.name,
                "spec_hash": self.spec_hash,
                "spec": self.spec.fingerprint(self.name),
                "runtime": list(self.spec.runtime),
                "tool": tool,
                "python": str(self.python_path),
                "project_dir": str(self.spec.project_dir),
                "created_at": utc_now("seconds"),
            }
            self._write_manifest(manifest)
        except BaseException:
            shutil.rmtree(self.path, ignore_errors=True)
            raise
        return self._environment(manifest, created=True)

    def _write_manifest(self, manifest: Mapping[str, Any]) -> None:
        atomic_write_text(self.manifest_path, json.dumps(manifest, indent=2, sort_keys=True))

    def _environment(self, manifest: Mapping[str, Any], *, created: bool) -> Environment:
        return Environment(
            manager=self.name,
            spec_hash=self.spec_hash,
            python_path=self.python_path,
            bin_paths=tuple(self.bin_paths),
            prefix=self.path,
            kind=self.kind,
            tool=str(manifest.get("tool", "")),
            created=created,
        )

    @abc.abstractmethod
    def build(self) -> str:
        """Create the environment at :attr:`path`; return the tool used.

        It installs the requirements and the runtime together
        (:meth:`install_with_runtime`).
        """

    def remove(self) -> bool:
        if not self.path.exists():
            return False
        shutil.rmtree(self.path)
        return True

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "path": str(self.path), "manifest": self.manifest()}


def current_python_version() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


__all__ = [
    "MANIFEST_NAME",
    "Environment",
    "EnvironmentManager",
    "EnvironmentSpec",
    "PrefixEnvironmentManager",
    "current_python_version",
]
