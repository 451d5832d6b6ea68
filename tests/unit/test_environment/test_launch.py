"""The launch cache: a rerun starts the environment last ensured for the config as it is."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from mlops.environment.launch import REEXEC_VARIABLE, Launch, LaunchCache, request_args
from mlops.environment.prefixes import PrefixKind
from mlops.runtime.request import RunRequest
from mlops.runtime.workspace import CONFIG_RELATIVE_PATH, RootSource, Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    workspace = Workspace(tmp_path / "ws", RootSource.EXPLICIT)
    config = workspace.project_dir("demo") / CONFIG_RELATIVE_PATH
    config.parent.mkdir(parents=True)
    config.write_text("model:\n  name: demo\n")
    return workspace


def built(tmp_path: Path, name: str = "venv-abc") -> Launch:
    prefix = tmp_path / "envs" / name
    (prefix / "bin").mkdir(parents=True)
    (prefix / "bin" / "python").write_text("")
    return Launch("abc", prefix / "bin" / "python", prefix, PrefixKind.VENV, (prefix / "bin",))


def test_a_remembered_launch_is_found_for_the_same_config_and_overrides(
    workspace: Workspace, tmp_path: Path
) -> None:
    launch = built(tmp_path)
    cache = LaunchCache(workspace)
    cache.remember("demo", {"model.parameters.a": 1}, launch)
    assert cache.lookup("demo", {"model.parameters.a": 1}) == launch
    assert cache.lookup("demo", {"model.parameters.a": 2}) is None  # other overrides
    assert cache.lookup("demo", {}) is None


def test_an_edited_config_misses(workspace: Workspace, tmp_path: Path) -> None:
    cache = LaunchCache(workspace)
    cache.remember("demo", {}, built(tmp_path))
    config = workspace.project_dir("demo") / CONFIG_RELATIVE_PATH
    config.write_text("model:\n  name: demo\n# edited\n")
    assert cache.lookup("demo", {}) is None


def test_a_removed_environment_or_a_damaged_entry_misses(
    workspace: Workspace, tmp_path: Path
) -> None:
    launch = built(tmp_path)
    cache = LaunchCache(workspace)
    cache.remember("demo", {}, launch)
    entry = workspace.state_dir / "launch" / "demo.json"
    document = json.loads(entry.read_text())
    launch.python_path.unlink()
    assert cache.lookup("demo", {}) is None
    launch.python_path.write_text("")
    for damaged in ("{", "[]", json.dumps({**document, "kind": "nonsense"}),
                    json.dumps({**document, "format": 0})):  # fmt: skip
        entry.write_text(damaged)
        assert cache.lookup("demo", {}) is None, damaged


def test_a_bad_id_or_a_missing_project_touches_nothing(
    workspace: Workspace, tmp_path: Path
) -> None:
    cache = LaunchCache(workspace)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    cache.remember("../evil", {}, built(tmp_path, "one"))
    cache.remember("absent", {}, built(tmp_path, "two"))
    assert cache.lookup("../evil", {}) is None
    assert cache.lookup("absent", {}) is None
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert [p for p in made if p not in before and "envs" not in p.parts] == []


def test_the_command_starts_the_request_whole_in_the_environment(tmp_path: Path) -> None:
    launch = built(tmp_path)
    request = RunRequest("demo", overrides={"a": [1, 2]}, verbosity=1)
    command = launch.command(request_args(request), {"PATH": "/usr/bin"}, tmp_path)
    assert command.argv[:5] == [str(launch.python_path), "-m", "mlops.main", "job", "run"]
    assert RunRequest.from_json(command.argv[-1]) == request
    assert command.env[REEXEC_VARIABLE] == "abc"
    assert command.env["PATH"] == f"{launch.prefix / 'bin'}:/usr/bin"
    assert command.env["VIRTUAL_ENV"] == str(launch.prefix)


def test_a_config_past_the_readers_cap_misses_without_being_read(
    workspace: Workspace, tmp_path: Path
) -> None:
    from mlops.config.yaml_files import MAX_YAML_BYTES
    from mlops.environment import launch as launch_module

    assert launch_module._MAX_CONFIG_BYTES == MAX_YAML_BYTES  # the same cap as the reader's
    config = workspace.project_dir("demo") / CONFIG_RELATIVE_PATH
    with config.open("ab") as handle:
        handle.truncate(MAX_YAML_BYTES + 1)
    cache = LaunchCache(workspace)
    cache.remember("demo", {}, built(tmp_path))
    assert cache.lookup("demo", {}) is None
    assert not (workspace.state_dir / "launch" / "demo.json").exists()


def _lookup_within(cache: LaunchCache, *, seconds: float) -> list[object]:
    """The lookup's answer, or nothing when it is still reading after ``seconds``."""
    found: list[object] = []
    looking = threading.Thread(target=lambda: found.append(cache.lookup("demo", {})), daemon=True)
    looking.start()
    looking.join(timeout=seconds)
    return found


def _replace_config(workspace: Workspace, make: str) -> None:
    config = workspace.project_dir("demo") / CONFIG_RELATIVE_PATH
    config.unlink()
    if make == "fifo":
        os.mkfifo(config)
    elif make == "dev-zero":
        config.symlink_to("/dev/zero")
    else:
        with config.open("wb") as handle:  # sparse: past the reader's cap without the disk
            handle.truncate(3 * 1024 * 1024)


@pytest.mark.parametrize("make", ["fifo", "dev-zero", "oversized"])
def test_a_config_that_is_no_regular_file_misses_at_once_without_reading_it(
    workspace: Workspace, tmp_path: Path, make: str
) -> None:
    """A FIFO would block the read for good, /dev/zero never ends: both take the full
    path, which refuses them in one line."""
    cache = LaunchCache(workspace)
    cache.remember("demo", {}, built(tmp_path))
    _replace_config(workspace, make)
    assert _lookup_within(cache, seconds=10) == [None], "the lookup blocked on the config"


def test_an_entry_that_is_no_regular_file_misses(workspace: Workspace, tmp_path: Path) -> None:
    cache = LaunchCache(workspace)
    cache.remember("demo", {}, built(tmp_path))
    entry = workspace.state_dir / "launch" / "demo.json"
    entry.unlink()
    os.mkfifo(entry)
    assert _lookup_within(cache, seconds=10) == [None], "the lookup blocked on its entry"
