"""A YAML bomb given to the real command: refused in bounded CPU time and memory."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BOMB = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'] + [
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)
]


MEASURE = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "used = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(done.returncode, used.ru_utime + used.ru_stime, used.ru_maxrss)\n"
    "sys.stderr.write(done.stderr)\n"
)


def _measured(argv: list[str], env: dict[str, str]) -> tuple[int, float, int, str]:
    """Exit status, CPU seconds and peak resident KiB of ``argv``, measured from outside."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv],
        env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    status, cpu, peak_kib = done.stdout.split()
    return int(status), float(cpu), int(peak_kib), done.stderr


def test_the_bomb_is_refused_by_the_command_in_bounded_time_and_memory(tmp_path: Path) -> None:
    """A helper process runs ``mlops config set`` with a bomb and reports its child's CPU
    time and peak resident memory, beside the same command with a plain value: the bomb
    costs what the command costs, where unbounded it takes minutes and gigabytes."""
    workspace = tmp_path / "ws"
    # Measured as a user runs it: without the test session's coverage tracer.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
    env["MLOPS_WORKSPACE_DIR"] = str(workspace)
    cli = [sys.executable, "-m", "mlops.main"]
    subprocess.run([*cli, "create", "demo"], env=env, check=True, capture_output=True)
    status, plain_cpu, plain_kib, stderr = _measured(
        [*cli, "config", "demo", "set", "model.parameters.x=[1, 2]"], env
    )
    assert status == 0, stderr
    value = "model.parameters.x={" + ", ".join(BOMB) + "}"
    started = time.monotonic()
    status, cpu, peak_kib, stderr = _measured([*cli, "config", "demo", "set", value], env)
    wall = time.monotonic() - started
    assert status == 2, stderr
    assert "once aliases are expanded" in stderr
    # A parse of 600 bytes on top of the command; the margins absorb a loaded machine.
    assert cpu < plain_cpu + 2.0, f"{cpu:.2f} s of CPU against {plain_cpu:.2f} s ({wall:.2f} s)"
    assert peak_kib < plain_kib + 50 * 1024, f"{peak_kib // 1024} MiB against {plain_kib // 1024}"
