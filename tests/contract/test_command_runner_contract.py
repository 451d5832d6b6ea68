"""The CommandRunner contract: the real subprocess runner and the recording fake agree.

Each case is a small Python program run by the real runner on
``sys.executable -c``; the fake is scripted with the same outcome, so unit
tests that rely on the fake rely on behaviour the real runner has.
Add a runner here when you add one.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fakes.commands import RecordingRunner
from mlops.environment.utils import CommandFailed, CommandRunner, SubprocessRunner

Program = Callable[[str, str, int], list[str]]


def _argv(stdout: str, stderr: str, code: int) -> list[str]:
    source = (
        f"import sys; sys.stdout.write({stdout!r}); sys.stderr.write({stderr!r}); sys.exit({code})"
    )
    return [sys.executable, "-c", source]


@pytest.fixture(params=["subprocess", "recording"])
def runner_and_program(request: pytest.FixtureRequest) -> tuple[CommandRunner, Program]:
    if request.param == "subprocess":
        return SubprocessRunner(), _argv
    fake = RecordingRunner(tools={"python": sys.executable})

    def scripted(stdout: str, stderr: str, code: int) -> list[str]:
        argv = _argv(stdout, stderr, code)
        fake.reply(*argv, stdout=stdout, stderr=stderr, returncode=code)
        return argv

    return fake, scripted


def test_success_returns_the_output(runner_and_program: tuple[CommandRunner, Program]) -> None:
    runner, program = runner_and_program
    argv = program("out\n", "", 0)
    result = runner.run(argv)
    assert result.argv == tuple(argv)
    assert (result.returncode, result.stdout) == (0, "out\n")


def test_failure_raises_with_everything_to_diagnose(
    runner_and_program: tuple[CommandRunner, Program],
) -> None:
    runner, program = runner_and_program
    argv = program("partial\n", "first\nlast words\n", 3)
    with pytest.raises(CommandFailed) as failure:
        runner.run(argv)
    error = failure.value
    assert (error.argv, error.returncode) == (tuple(argv), 3)
    assert (error.stdout, error.stderr) == ("partial\n", "first\nlast words\n")
    assert error.one_line().endswith("exited with status 3: last words")
    assert "\n" not in error.one_line()


def test_which_finds_executables_only(runner_and_program: tuple[CommandRunner, Program]) -> None:
    runner, _ = runner_and_program
    env = {"PATH": str(Path(sys.executable).parent)}
    assert runner.which("python", env) is not None
    assert runner.which("no-such-tool-xyz", env) is None


def test_the_real_runner_passes_env_and_cwd_exactly(tmp_path: Path) -> None:
    code = "import os; print(os.environ.get('PROBE'), os.environ.get('HOME_PROBE'), os.getcwd())"
    result = SubprocessRunner().run(
        [sys.executable, "-c", code], env={"PROBE": "1", "PATH": os.defpath}, cwd=tmp_path
    )
    assert result.stdout.split() == ["1", "None", str(tmp_path)]


def test_the_real_runner_reports_missing_programs_and_timeouts(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed) as missing:
        SubprocessRunner().run([str(tmp_path / "nope")])
    assert missing.value.returncode == 127
    with pytest.raises(CommandFailed, match=r"timed out after 0\.2 s"):
        SubprocessRunner(timeout=0.2).run([sys.executable, "-c", "import time; time.sleep(5)"])
    streaming: list[str] = []
    with pytest.raises(CommandFailed) as missing_streamed:
        SubprocessRunner().run([str(tmp_path / "nope")], on_line=streaming.append)
    assert missing_streamed.value.returncode == 127
    started = time.monotonic()
    # Long enough for an interpreter to start and print on a loaded machine (under
    # coverage it can take more than 0.2 s), far shorter than the sleep.
    with pytest.raises(CommandFailed, match=r"timed out after 5(\.0)? s"):
        SubprocessRunner(timeout=5.0).run(
            [sys.executable, "-c", "print('working', flush=True); import time; time.sleep(60)"],
            on_line=streaming.append,
        )
    assert streaming == ["working"]
    assert time.monotonic() - started < 30  # killed, not waited for


def test_each_output_line_is_told_as_it_comes_and_kept(
    runner_and_program: tuple[CommandRunner, Program],
) -> None:
    runner, program = runner_and_program
    seen: list[str] = []
    result = runner.run(program("one\ntwo\n", "three\n", 0), on_line=seen.append)
    assert sorted(seen) == ["one", "three", "two"]  # the two streams interleave as printed
    assert (result.stdout, result.stderr) == ("one\ntwo\n", "three\n")
    seen.clear()
    with pytest.raises(CommandFailed) as failure:
        runner.run(program("", "resolving\nno solution\n", 1), on_line=seen.append)
    assert seen == ["resolving", "no solution"]
    assert failure.value.stderr == "resolving\nno solution\n"
