"""Seeding NumPy without importing it: in a fresh interpreter, where it is not loaded yet."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fixtures.cli import run_mlops

pytest.importorskip("numpy")


def _fresh(code: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_numpy_imported_after_seeding_draws_what_an_eager_seed_gives() -> None:
    seen = _fresh("""
        import json, sys
        from mlops.engine.seeding import seed_generators
        seed_generators(11)
        loaded = "numpy" in sys.modules
        import numpy
        print(json.dumps([loaded, numpy.random.rand(3).tolist()]))
    """)
    eager = _fresh("""
        import json, numpy
        numpy.random.seed(11)
        print(json.dumps([False, numpy.random.rand(3).tolist()]))
    """)
    assert seen == eager


def test_the_seed_current_at_import_is_the_one_numpy_receives() -> None:
    seen = _fresh("""
        import json
        from mlops.engine.seeding import seed_generators
        seed_generators(1)
        seed_generators(2)  # a process's own seed, set before it imports NumPy
        import numpy
        first = numpy.random.rand(2).tolist()
        seed_generators(1)  # imported now: seeded at once
        loader = numpy.__spec__.loader.__class__.__name__
        print(json.dumps([first, numpy.random.rand(2).tolist(), loader]))
    """)
    expected = _fresh("""
        import json, numpy
        numpy.random.seed(2)
        first = numpy.random.rand(2).tolist()
        numpy.random.seed(1)
        loader = numpy.__spec__.loader.__class__.__name__
        print(json.dumps([first, numpy.random.rand(2).tolist(), loader]))
    """)
    assert seen == expected  # the module keeps its own loader too


def test_a_run_whose_processes_do_not_use_numpy_does_not_import_it(tmp_path: Path) -> None:
    assert run_mlops(tmp_path, "create", "plain").returncode == 0
    seen = _fresh(f"""
        import json, os, sys
        os.environ["MLOPS_WORKSPACE_DIR"] = {str(tmp_path)!r}
        from mlops.session.platform import MLPlatform
        platform = MLPlatform()
        report = platform.run_pipeline_for_project("plain", use_cache=False)
        print(json.dumps([report.ok, "numpy" in sys.modules, report.record["seeded"]]))
    """)
    assert seen[:2] == [True, False]  # type: ignore[index]
    assert "numpy" in seen[2]  # type: ignore[index]
