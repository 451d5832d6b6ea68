"""The suite's own guards: leaked state fails a test; real tools and the network are refused."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parents[1] / "conftest.py"


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makeini(
        "[pytest]\nmarkers =\n    pyenv: x\n    conda: x\n    requires_redis_server: x\n"
        "    unit: x\n    integration: x\n    contract: x\n    e2e: x\n"
    )
    return pytester


def test_a_test_that_leaks_an_env_var_fails(suite: pytest.Pytester) -> None:
    suite.makepyfile(
        "import os\n"
        "def test_leak():\n    os.environ['MLOPS_LEAK'] = '1'\n"
        "def test_clean(monkeypatch):\n    monkeypatch.setenv('MLOPS_OK', '1')\n"
    )
    result = suite.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*os.environ changed: MLOPS_LEAK*"])


def test_a_unit_test_that_starts_a_process_or_a_server_fails(suite: pytest.Pytester) -> None:
    unit = suite.path / "tests" / "unit"
    unit.mkdir(parents=True)
    (unit / "test_reach.py").write_text(
        "import socket, subprocess\n"
        "def test_spawn():\n    subprocess.run(['true'], check=False)\n"
        "def test_serve():\n    with socket.socket() as s:\n        s.bind(('127.0.0.1', 0))\n"
        "def test_compute():\n    assert sum([1, 2]) == 3\n"
    )
    result = suite.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines(
        ["*a unit test started a process (subprocess.Popen)*move it to tests/integration*",
         "*a unit test opened a server socket (socket.bind)*"]
    )  # fmt: skip


def test_a_test_that_leaves_cwd_changed_fails(suite: pytest.Pytester, tmp_path: Path) -> None:
    suite.makepyfile(f"import os\ndef test_cd():\n    os.chdir({str(tmp_path)!r})\n")
    result = suite.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*cwd changed to*"])


def test_folder_gives_the_level_marker(suite: pytest.Pytester) -> None:
    suite.mkdir("unit")
    suite.mkdir("e2e")
    (suite.path / "unit" / "test_a.py").write_text("def test_a():\n    pass\n")
    (suite.path / "e2e" / "test_b.py").write_text("def test_b():\n    pass\n")
    suite.runpytest("-m", "unit", "-p", "no:randomly").assert_outcomes(passed=1, deselected=1)
    suite.runpytest("-m", "e2e", "-p", "no:randomly").assert_outcomes(passed=1, deselected=1)


@pytest.mark.parametrize(
    ("markexpr", "outcomes"),
    [("unit", {"passed": 1, "deselected": 0}),  # tests/integration is not even collected
     ("unit or slow", {"passed": 2, "deselected": 1}),
     ("integration and not slow", {"passed": 1, "deselected": 1}),
     ("not unit", {"passed": 2, "deselected": 0})],
)  # fmt: skip
def test_a_level_folder_ruled_out_by_m_is_left_out_and_no_other(
    suite: pytest.Pytester, markexpr: str, outcomes: dict[str, int]
) -> None:
    suite.makeini(
        "[pytest]\nmarkers =\n    unit: x\n    integration: x\n    contract: x\n    e2e: x\n"
        "    slow: x\n"
    )
    for level in ("unit", "integration"):
        (suite.path / "tests" / level).mkdir(parents=True)
    (suite.path / "tests" / "unit" / "test_a.py").write_text("def test_a():\n    pass\n")
    (suite.path / "tests" / "integration" / "test_b.py").write_text(
        "import pytest\n\n@pytest.mark.slow\ndef test_slow():\n    pass\n\n"
        "def test_fast():\n    pass\n"
    )
    suite.runpytest("-m", markexpr, "-p", "no:randomly").assert_outcomes(**outcomes)


def test_real_tool_tests_are_skipped_without_their_switch(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLOPS_TEST_PYENV", raising=False)
    monkeypatch.delenv("MLOPS_TEST_CONDA", raising=False)
    suite.makepyfile(
        "import pytest\n"
        "@pytest.mark.pyenv\ndef test_p():\n    pass\n"
        "@pytest.mark.conda\ndef test_c():\n    pass\n"
    )
    result = suite.runpytest("-rs", "-p", "no:randomly")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(["*nox -s pyenv*", "*nox -s conda*"])


@pytest.mark.parametrize("tool", ["conda", "micromamba", "mamba", "pyenv"], ids=str)
def test_real_conda_and_pyenv_are_refused_without_their_marker(tool: str) -> None:
    with pytest.raises(RuntimeError, match=rf"real {tool} started in a test without"):
        subprocess.run([tool, "--version"], check=False)


def test_os_system_and_posix_spawn_are_guarded_too() -> None:
    with pytest.raises(RuntimeError, match="real pyenv started"):
        os.system("pyenv --version")  # noqa: S605
    with pytest.raises(RuntimeError, match="real conda started"):
        os.posix_spawn("/usr/bin/conda", ["conda"], dict(os.environ))


@pytest.mark.pyenv
def test_the_pyenv_marker_lets_pyenv_through() -> None:
    # Runs in the pyenv session; the guard must not refuse what the marker allows.
    done = subprocess.run(["pyenv", "--version"], capture_output=True, text=True, check=False)
    assert done.stdout.startswith("pyenv ")


def test_other_programs_run_normally() -> None:
    assert subprocess.run(["true"], check=False).returncode == 0


def test_network_beyond_loopback_is_refused() -> None:
    # 192.0.2.0/24 is TEST-NET-1: the guard refuses before any packet is sent.
    with (
        socket.socket() as client,
        pytest.raises(RuntimeError, match=r"network connection to 192\.0\.2\.1:9"),
    ):
        client.connect(("192.0.2.1", 9))


def test_loopback_connections_are_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass


def test_a_missing_extra_fails_inside_a_nox_session_and_skips_outside(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite.makepyfile(
        "from fixtures.extras import require\n"
        "def test_needs_it():\n    require('mlops_no_such_package')\n"
    )
    monkeypatch.delenv("MLOPS_EXPECT_INSTALLED", raising=False)
    suite.runpytest("-p", "no:randomly").assert_outcomes(skipped=1)
    monkeypatch.setenv("MLOPS_EXPECT_INSTALLED", "1")
    suite.runpytest("-p", "no:randomly").assert_outcomes(failed=1)
