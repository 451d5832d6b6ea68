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


def test_the_bomb_is_refused_by_the_command_in_bounded_time_and_memory(tmp_path: Path) -> None:
    """Measured from the outside: a helper process runs ``mlops config set`` with a bomb
    and reports its child's CPU time and peak resident memory."""
    workspace = tmp_path / "ws"
    # Measured as a user runs it: without the test session's coverage tracer.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE")}
    env["MLOPS_WORKSPACE_DIR"] = str(workspace)
    cli = [sys.executable, "-m", "mlops.main"]
    subprocess.run([*cli, "create", "demo"], env=env, check=True, capture_output=True)
    measure = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "used = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(done.returncode, used.ru_utime + used.ru_stime, used.ru_maxrss)\n"
        "sys.stderr.write(done.stderr)\n"
    )
    value = "model.parameters.x={" + ", ".join(BOMB) + "}"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", measure, *cli, "config", "demo", "set", value],
        env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    wall = time.monotonic() - started
    status, cpu, peak_kib = done.stdout.split()
    assert status == "2", done.stderr
    assert "once aliases are expanded" in done.stderr
    # Unbounded, the same 600 bytes take minutes and gigabytes. The bound is the
    # import of mlops plus a parse of 600 bytes.
    assert float(cpu) < 1.0, f"{float(cpu):.2f} s of CPU ({wall:.2f} s of wall time)"
    assert int(peak_kib) < 100 * 1024, f"{int(peak_kib) // 1024} MiB"
