"""Shared fixtures and the suite's hygiene rules.

- Every test gets its level marker from its folder (unit, integration,
  contract, e2e), so ``-m unit`` selects a tier.
- Tests that use a real tool carry its marker and run only where the matrix
  switches them on: ``pyenv`` (``MLOPS_TEST_PYENV=1``, the nox pyenv session),
  ``conda`` (``MLOPS_TEST_CONDA=1``, the nox conda session),
  ``slurm`` (``nox -s slurm``), ``browser`` (``nox -s e2e``, a real Chromium),
  ``soak`` (``nox -s soak``, rounds looking for a rare failure),
  ``requires_redis_server`` (Debian's ``redis-server`` on PATH).
- ``flakiness.plugin`` (``tests/flakiness``) records every outcome in
  ``.nox/flaky-history.json`` and applies ``tests/quarantine.yaml``;
  ``--flaky-report`` and ``--skip-quarantine`` are its options.
- Autouse hygiene: the working directory and ``os.environ`` are the same after
  each test as before it; a test that leaves them changed fails. An audit hook
  refuses real conda/pyenv processes in tests without their marker, and any
  network connection beyond loopback in every test.
"""

from __future__ import annotations

import functools
import ipaddress
import itertools
import os
import re
import shutil
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from hypothesis import HealthCheck, settings

pytest_plugins = [
    "pytester", "fixtures.storage", "fixtures.projects", "fixtures.browser", "flakiness.plugin",
]  # fmt: skip

REPO_ROOT = Path(__file__).resolve().parent.parent
LEVELS = ("unit", "integration", "contract", "e2e")
REAL_TOOL_GATES = {
    "pyenv": ("MLOPS_TEST_PYENV", "real pyenv tests run in `nox -s pyenv` (or MLOPS_TEST_PYENV=1)"),
    "conda": ("MLOPS_TEST_CONDA", "real conda tests run in `nox -s conda` (or MLOPS_TEST_CONDA=1)"),
    "slurm": ("MLOPS_TEST_SLURM", "real SLURM tests run in `nox -s slurm` (or MLOPS_TEST_SLURM=1)"),
    "browser": (
        "MLOPS_TEST_BROWSER",
        "browser tests run in `nox -s e2e` (or MLOPS_TEST_BROWSER=1)",
    ),
    "soak": ("MLOPS_TEST_SOAK", "the soak runs in `nox -s soak` (or MLOPS_TEST_SOAK=1)"),
}
# Fake executables standing in for guarded tools; running them is always allowed.
FAKES_BIN = REPO_ROOT / "tests" / "fakes" / "bin"
GUARDED_TOOLS = {
    "conda": "conda",
    "mamba": "conda",
    "micromamba": "conda",
    "conda-lock": "conda",
    "pyenv": "pyenv",
    **dict.fromkeys(
        ("sbatch", "srun", "scancel", "squeue", "scontrol", "slurmctld", "slurmd"), "slurm"
    ),
}
# Variables pytest and its plugins change on purpose while a test runs.
VOLATILE_ENV = {
    "PYTEST_CURRENT_TEST",
    # scikit-learn sets these for OpenMP the first time it is imported in a process.
    "KMP_DUPLICATE_LIB_OK",
    "KMP_INIT_AT_FORK",
}

settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


# ------------------------------------------------------------------ session-level checks


def pytest_configure(config: pytest.Config) -> None:
    # A workspace chosen by the developer's shell must never leak into tests.
    os.environ.pop("MLOPS_WORKSPACE_DIR", None)
    # The suite runs offline: MLflow must not start its usage-telemetry uploader.
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    if os.environ.get("MLOPS_EXPECT_INSTALLED") == "1":
        _require_installed_package()
    sys.addaudithook(_audit)


def _require_installed_package() -> None:
    """Inside the matrix the suite must test the built wheel, not the checkout."""
    import mlops

    location = Path(mlops.__file__).resolve()
    if location.is_relative_to(REPO_ROOT / "src"):
        pytest.exit(
            f"mlops was imported from the checkout ({location}); the matrix tests the "
            "installed wheel. Reinstall it without -e.",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave out a level's folder that ``-m`` rules out whatever else a test is marked.

    ``-m unit`` then imports only ``tests/unit``: the unit tier does not pay
    for importing (in every xdist worker) the modules of the other levels.
    """
    if collection_path.name not in LEVELS or collection_path.parent.name != "tests":
        return None
    return True if _level_ruled_out(config.option.markexpr or "", collection_path.name) else None


@functools.cache
def _level_ruled_out(markexpr: str, level: str) -> bool:
    """Whether ``markexpr`` is false for every test of ``level``, whatever its other markers."""
    if not markexpr.strip():
        return False
    try:
        from _pytest.mark.expression import Expression

        expression = Expression.compile(markexpr)
    except Exception:  # noqa: BLE001 - pytest reports a bad -m itself; never hide tests for it
        return False
    names = sorted(set(re.findall(r"[A-Za-z_][\w.]*", markexpr)) - {"and", "or", "not", *LEVELS})
    if len(names) > 8:
        return False
    for values in itertools.product((False, True), repeat=len(names)):
        assigned = dict(zip(names, values, strict=True))
        if expression.evaluate(functools.partial(_marked, level=level, assigned=assigned)):
            return False
    return True


def _marked(name: str, /, *, level: str, assigned: dict[str, bool], **_kwargs: object) -> bool:
    return name == level if name in LEVELS else assigned.get(name, False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    redis_server = shutil.which("redis-server")
    for item in items:
        parts = Path(str(item.path)).relative_to(config.rootpath).parts
        level = next((p for p in parts if p in LEVELS), None)
        if level is not None:
            item.add_marker(getattr(pytest.mark, level))
        for marker, (variable, reason) in REAL_TOOL_GATES.items():
            if item.get_closest_marker(marker) and os.environ.get(variable) != "1":
                item.add_marker(pytest.mark.skip(reason=reason))
        if item.get_closest_marker("requires_redis_server") and redis_server is None:
            item.add_marker(
                pytest.mark.skip(reason="redis-server not on PATH (apt-get install redis-server)")
            )


# ------------------------------------------------------------------ the audit-hook guard


class _Guard:
    """What the audit hook allows for the test that is running (hooks cannot be removed)."""

    active = False
    allowed_tools: ClassVar[set[str]] = set()
    #: The running test is in tests/unit: it starts no process and opens no server.
    unit = False


# Events of starting a process or listening on a port (a LocalCluster, an emulator, a server).
_SPAWNS = frozenset({"subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn", "os.system"})
_SERVES = frozenset({"socket.bind", "socket.listen"})


class BlockedResourceError(RuntimeError):
    """A test reached for something its markers do not allow."""


def _program_name(event: str, args: tuple[Any, ...]) -> str | None:
    """The program a process-starting audit event is about to run, by file name."""
    if event == "subprocess.Popen":
        executable, argv = args[0], args[1]
        if executable is None:
            executable = argv[0] if isinstance(argv, list | tuple) and argv else argv
    elif event in {"os.posix_spawn", "os.exec", "os.spawn"}:
        executable = args[1] if event == "os.spawn" else args[0]
    elif event == "os.system":
        command = os.fsdecode(args[0]).split()
        executable = command[0] if command else None
    else:
        return None
    if executable is None:
        return None
    path = Path(os.fsdecode(executable))
    if path.is_absolute() and path.parent == FAKES_BIN:
        return None
    return path.name


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if not _Guard.active:
        return
    if _Guard.unit and (event in _SPAWNS or event in _SERVES):
        what = "started a process" if event in _SPAWNS else "opened a server socket"
        raise BlockedResourceError(
            f"a unit test {what} ({event}); unit tests stay in this process: "
            "move it to tests/integration (or tests/e2e)"
        )
    name = _program_name(event, args)
    if name is not None:
        tool = GUARDED_TOOLS.get(name)
        if tool is not None and tool not in _Guard.allowed_tools:
            raise BlockedResourceError(
                f"real {name} started in a test without @pytest.mark.{tool}; "
                "use the recording CommandRunner or a fake executable from tests/fakes"
            )
    elif event == "socket.connect":
        sock, address = args[0], args[1]
        # Connecting a UDP socket sends nothing; Dask does it to learn the local address.
        datagram = getattr(sock, "type", None) == socket.SOCK_DGRAM
        if isinstance(address, tuple) and not datagram and not _is_loopback(str(address[0])):
            raise BlockedResourceError(
                f"network connection to {address[0]}:{address[1]} from a test; "
                "tests talk only to servers they start on loopback"
            )


def _is_loopback(host: str) -> bool:
    if host in {"localhost", ""}:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _hygiene(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that leaves cwd or os.environ changed; guard real tools and the network."""
    _Guard.allowed_tools = {
        m for m in ("pyenv", "conda", "slurm") if request.node.get_closest_marker(m)
    }
    _Guard.unit = request.node.get_closest_marker("unit") is not None
    _Guard.active = True
    cwd_before = Path.cwd()
    env_before = dict(os.environ)
    try:
        yield
    finally:
        _Guard.active = False
    problems = []
    if Path.cwd() != cwd_before:
        problems.append(f"cwd changed to {Path.cwd()} (was {cwd_before})")
        os.chdir(cwd_before)
    env_after = dict(os.environ)
    changed = sorted(
        key
        for key in set(env_before) | set(env_after)
        if key not in VOLATILE_ENV and env_before.get(key) != env_after.get(key)
    )
    if changed:
        problems.append(f"os.environ changed: {', '.join(changed)}")
        os.environ.clear()
        os.environ.update(env_before)
    if problems:
        pytest.fail("test left global state behind: " + "; ".join(problems), pytrace=False)


# ------------------------------------------------------------------ seed fixtures


@pytest.fixture
def tmp_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temp workspace root; sets MLOPS_WORKSPACE_DIR and chdir() for path stability."""
    workspace = tmp_path / "workspace"
    (workspace / "projects").mkdir(parents=True)
    monkeypatch.setenv("MLOPS_WORKSPACE_DIR", str(workspace))
    monkeypatch.chdir(workspace)
    return workspace


@pytest.fixture
def sample_model_config() -> dict[str, Any]:
    """Minimal dict that satisfies `AdapterConfig(**model)` (see `mlops.config.schema`)."""
    return {
        "name": "test-model",
        "framework": "custom",
        "language": "python",
        "version": "0.1.0",
        "parameters": {},
        "requirements": {},
    }


@pytest.fixture
def sample_project_config(sample_model_config: dict[str, Any]) -> dict[str, Any]:
    """Minimal `projects/<id>/configs/project_config.yaml` used across tests."""
    return {
        "reproducibility": {
            "random_seed": 123,
            "experiment_tracking": {"backend": "noop", "parameters": {}},
        },
        # Env manager selection keys are {"venv": {...}} / {"conda": {...}} / {"system": {...}}
        "environment": {"system": {}},
        "model": sample_model_config,
        "reporting": {"charts": []},
    }


@pytest.fixture
def write_project_config(
    tmp_workspace: Path, sample_project_config: dict[str, Any]
) -> Callable[..., Path]:
    """Write `project_config.yaml` under a temp workspace and return its path."""

    def _write(project_id: str = "proj", cfg: dict[str, Any] | None = None) -> Path:
        project_root = tmp_workspace / "projects" / project_id
        (project_root / "configs").mkdir(parents=True, exist_ok=True)
        cfg_path = project_root / "configs" / "project_config.yaml"
        cfg_path.write_text(yaml.safe_dump(cfg or sample_project_config, sort_keys=False))
        return cfg_path

    return _write
