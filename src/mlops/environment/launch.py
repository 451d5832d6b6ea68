"""Starting ``mlops`` again inside a project's environment, and the launch cache that
lets a rerun do it without reading the config.

``mlops run`` of a project with its own environment starts two interpreters:
the one the user called, which finds the environment, and the one inside it,
which runs. Finding it means loading and validating the config (pydantic, the
YAML reader, the environment managers): most of the first interpreter's time,
and repeated by the second. So once an environment is ensured, the launch
cache (``.mlops/launch/<project>.json``) remembers how it was started, keyed by
the config's bytes, the ``--set`` overrides and the mlops that launched it.
A rerun with the same key starts the environment's interpreter straight away,
importing nothing but this module.

A stale entry is never trusted: the child loads the config as every run does
and runs only when the environment it was started for
(``MLOPS_PROJECT_ENV=<spec hash>``) is the one its config gives. A requirements
file edited since, say, leaves the key unchanged but not the spec hash; the
child then ensures the right environment and starts itself again there. A
stale entry costs one interpreter start, never a run in the wrong environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlops
from mlops.environment.prefixes import PrefixKind, environ_with_paths
from mlops.errors import ProjectError
from mlops.runtime.bounded_files import read_regular_file
from mlops.runtime.interrupts import held, signal_of, stop_signals_raise
from mlops.runtime.parent_death import child_environment
from mlops.runtime.request import RunRequest
from mlops.runtime.workspace import CONFIG_RELATIVE_PATH, Workspace

#: Set in a child started for an environment: that environment's spec hash.
REEXEC_VARIABLE = "MLOPS_PROJECT_ENV"
#: How long the child gets to end after a Ctrl-C that reached it too.
CHILD_STOP_GRACE_S = 0.5
#: How long the child gets to record its run and end once a stop signal is passed on.
CHILD_RECORD_GRACE_S = 5.0
LAUNCH_DIR_NAME = "launch"
_FORMAT = 1
#: The config reader's size cap (``adapters.config_yaml``): larger configs take the full path.
_MAX_CONFIG_BYTES = 2 * 1024 * 1024
#: An entry is a few hundred bytes; anything past this is not one.
_MAX_ENTRY_BYTES = 64 * 1024


@dataclass(frozen=True)
class Reexec:
    """The command that runs ``mlops ARGS`` again inside an environment."""

    argv: list[str]
    env: dict[str, str]


@dataclass(frozen=True)
class Launch:
    """How an ensured environment is started: what the launch cache keeps."""

    spec_hash: str
    python_path: Path
    prefix: Path
    kind: PrefixKind
    bin_paths: tuple[Path, ...]

    def command(self, args: Sequence[str], environ: Mapping[str, str], workspace: Path) -> Reexec:
        return Reexec(
            [str(self.python_path), "-m", "mlops.main", *args], self.environ(environ, workspace)
        )

    def environ(self, environ: Mapping[str, str], workspace: Path) -> dict[str, str]:
        """``environ`` as activation would leave it, with the workspace and the spec hash a
        process started here checks (:data:`REEXEC_VARIABLE`)."""
        env = environ_with_paths(list(self.bin_paths), environ, prefix=self.prefix, kind=self.kind)
        env[REEXEC_VARIABLE] = self.spec_hash
        env["MLOPS_WORKSPACE_DIR"] = str(workspace)
        return env


def launch_key(config: bytes, overrides: Mapping[str, Any]) -> str:
    """What a cached launch is valid for: the config's bytes, the overrides, this mlops."""
    digest = hashlib.sha256()
    for part in (
        config,
        json.dumps(overrides, sort_keys=True, default=repr).encode(),
        sys.executable.encode(),
        mlops.__version__.encode(),
        str(Path(mlops.__file__).parent).encode(),
    ):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class LaunchCache:
    """One entry per project in the workspace's ``.mlops/launch``: the last launch ensured."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def _entry(self, project_id: str) -> Path | None:
        from mlops.runtime.project_ids import check_project_id

        try:
            check_project_id(project_id)
        except ProjectError:
            return None  # the full path reports the bad id
        return self.workspace.state_dir / LAUNCH_DIR_NAME / f"{project_id}.json"

    def _key(self, project_id: str, overrides: Mapping[str, Any]) -> str | None:
        config = self.workspace.project_dir(project_id) / CONFIG_RELATIVE_PATH
        try:
            # Within the config reader's bounds: a FIFO, a device or a config past the
            # cap takes the full path, which refuses it in one line.
            text = read_regular_file(config, _MAX_CONFIG_BYTES)
        except OSError:
            return None
        return launch_key(text, overrides) if len(text) <= _MAX_CONFIG_BYTES else None

    def remember(self, project_id: str, overrides: Mapping[str, Any], launch: Launch) -> None:
        """Keep ``launch`` for the config as it is on disk now (best effort: a cache)."""
        from mlops.storage.atomic import atomic_write_text

        entry, key = self._entry(project_id), self._key(project_id, overrides)
        if entry is None or key is None:
            return
        document = {
            "format": _FORMAT,
            "key": key,
            "spec_hash": launch.spec_hash,
            "python": str(launch.python_path),
            "prefix": str(launch.prefix),
            "kind": str(launch.kind),
            "bin_paths": [str(p) for p in launch.bin_paths],
        }
        try:
            atomic_write_text(entry, json.dumps(document, indent=2) + "\n", durable=False)
        except OSError:
            return  # a read-only state folder: every run takes the full path

    def lookup(self, project_id: str, overrides: Mapping[str, Any]) -> Launch | None:
        """The launch kept for this config and these overrides, if its environment is there."""
        entry = self._entry(project_id)
        if entry is None:
            return None
        try:
            document = json.loads(read_regular_file(entry, _MAX_ENTRY_BYTES))
            if document.get("format") != _FORMAT:
                return None
            launch = Launch(
                spec_hash=str(document["spec_hash"]),
                python_path=Path(document["python"]),
                prefix=Path(document["prefix"]),
                kind=PrefixKind(document["kind"]),
                bin_paths=tuple(Path(p) for p in document["bin_paths"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None  # absent or damaged: the full path writes it anew
        if document.get("key") != self._key(project_id, overrides):
            return None
        if not launch.python_path.exists():
            return None  # the environment was removed since
        return launch

    def forget(self, project_id: str) -> None:
        entry = self._entry(project_id)
        if entry is not None:
            entry.unlink(missing_ok=True)


def run_child(command: Reexec) -> int:
    """Run ``command`` with this terminal (its progress shown as it goes); its exit status.

    The child's run is this command's: it ends with this process. A stop signal
    sent here (SIGINT, SIGTERM, SIGHUP) is passed on (:func:`_stop_child`), and
    should this process be killed outright, the kernel sends the child SIGTERM
    (:mod:`mlops.runtime.parent_death`). Either way the child stops its run in
    order and records it ``interrupted``.
    """
    # Not through CommandRunner, which captures output: the child's progress goes
    # straight to this terminal, and its exit status is the run's.
    env = child_environment(command.env, signal.SIGTERM)
    child: subprocess.Popen[bytes] | None = None
    with stop_signals_raise():
        try:
            with held():  # a signal during the start is acted on once the child is known
                child = subprocess.Popen(command.argv, env=env)
            return child.wait()
        except KeyboardInterrupt as exc:
            if child is None:
                raise
            return _stop_child(child, signal_of(exc))


def become(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Replace this process by ``argv`` with ``env`` (a shell, a notebook server): the
    terminal, signals and exit status are the command's own. Where a process cannot be
    replaced (Windows), ``argv`` runs as a child and its exit status is returned.

    ``argv[0]`` is looked up on ``env``'s PATH; the caller checks it is there.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execvpe(argv[0], list(argv), dict(env))  # noqa: S606 - an argv list, no shell
    return subprocess.call(list(argv), env=dict(env))


def _stop_child(child: subprocess.Popen[bytes], received: signal.Signals) -> int:
    """The child's exit status once the stop signal ``received`` reached this process.

    Ctrl-C reaches the child too (one terminal, one process group), and it
    records its run as interrupted: it gets the time to, and a SIGINT sent to
    this process alone is passed on after that. SIGTERM and SIGHUP are passed on
    at once (``kill`` and a closing session may reach this process alone; a
    child that gets one twice records its run once). A child still running
    after that is killed; another signal here moves to the next step at once.
    A child that ends by a signal ends this command with ``received``'s status.
    """
    first = (None,) if received == signal.SIGINT else ()
    for signal_to_send in (*first, received, signal.SIGKILL):
        if signal_to_send is not None:
            child.send_signal(signal_to_send)
        # The child needs a moment to write its run's record once it has the signal.
        grace = CHILD_STOP_GRACE_S if signal_to_send is None else CHILD_RECORD_GRACE_S
        try:
            return _status(child.wait(timeout=grace), received)
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt:
            continue  # another signal: go on to the next step at once
    return _status(child.wait(), received)


def _status(returncode: int, received: signal.Signals) -> int:
    # Popen reports a child a signal ended as minus the signal's number.
    return returncode if returncode >= 0 else 128 + int(received)


def request_args(request: RunRequest) -> list[str]:
    """``mlops`` arguments that run ``request`` as it is: whole, as JSON, never rebuilt."""
    return ["job", "run", "--request", request.to_json()]


def runs_here(request: RunRequest) -> bool:
    """``request`` runs in this interpreter: ``--local``, or already started for an environment
    (the child checks it is the right one)."""
    return request.local or bool(os.environ.get(REEXEC_VARIABLE))


def launch_cached(workspace: Workspace, request: RunRequest) -> int | None:
    """Run ``request`` in its project's environment as last ensured, if the launch cache
    holds it for the config as it is; None to take the full path."""
    if runs_here(request):
        return None
    launch = LaunchCache(workspace).lookup(request.project, request.overrides)
    if launch is None:
        return None
    if request.verbosity >= 0:
        sys.stderr.write(f"mlops: running in {launch.prefix} (reused)\n")
        sys.stderr.flush()
    return run_child(launch.command(request_args(request), os.environ, workspace.root))


__all__ = [
    "CHILD_RECORD_GRACE_S",
    "CHILD_STOP_GRACE_S",
    "REEXEC_VARIABLE",
    "Launch",
    "LaunchCache",
    "Reexec",
    "become",
    "launch_cached",
    "launch_key",
    "request_args",
    "run_child",
    "runs_here",
]
