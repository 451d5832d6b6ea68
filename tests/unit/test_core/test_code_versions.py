"""Versions of a project's code side by side in one process, as a long-lived worker holds them.

Each version is a folder of the same modules (``pipeline``, its sibling
``helpers``, a package ``pkg``) with other values, as uploaded copies are.
Tasks go through :func:`execute_process` with a worker's settings (results
leave as bytes); the driver's side imports the project by its plain names.
"""

from __future__ import annotations

import pickle
import sys
import textwrap
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from mlops.cache.payload_spill import PayloadRef, encode_result
from mlops.cache.step_state_manager import StepStateManager
from mlops.config.pipeline import DEFAULT_SPILL_THRESHOLD
from mlops.engine import code_versions
from mlops.engine.code_versions import hold, live_versions, source_digest
from mlops.engine.worker import (
    FunctionRef,
    LiveStores,
    ProcessOutcome,
    ProcessTask,
    execute_process,
)
from mlops.storage.backends.memory import MemoryKVStore, MemoryObjectStore
from mlops.tracking.status import ProcessStatus

MODULES = {
    "helpers.py": "VERSION = {version}\n",
    "pkg/__init__.py": "",
    "pkg/sub.py": "from helpers import VERSION as SUB_VERSION\n",
    "pipeline.py": """
        import enum
        import sys
        from dataclasses import dataclass

        import helpers
        import pkg.sub
        from helpers import VERSION
        from mlops import process


        @dataclass(frozen=True)
        class Model:
            version: int

            @dataclass(frozen=True)
            class Part:
                name: str


        class Kind(enum.Enum):
            A = 1


        def double(value):
            return 2 * value


        @process
        def make(ctx):
            return Model(VERSION)


        @process
        def late(ctx, barrier=None):
            if barrier is not None:  # both versions loaded before either imports again
                barrier.wait(timeout=30)
            import helpers as again
            from pkg.sub import SUB_VERSION
            return [again.VERSION, SUB_VERSION, pkg.sub.SUB_VERSION, helpers.VERSION]


        @process
        def check(ctx, make):
            if not isinstance(make, Model):
                kind = type(make)
                raise TypeError(f"{kind.__module__}.{kind.__qualname__} is not my Model")
            return [make.version, VERSION]


        @process
        def hammer(ctx, rounds=100):
            me = sys.modules[__name__]
            for _ in range(rounds):
                import helpers as again
                if again.VERSION != VERSION:
                    raise RuntimeError(f"helpers of version {again.VERSION} in {VERSION}")
                if sys.modules.get(__name__) is not me:
                    raise RuntimeError(f"{__name__} left sys.modules while its task ran")
            return Model(VERSION)
    """,
}


def write_version(root: Path, version: int) -> Path:
    """``root``/src holding the project's modules of ``version``; returns src."""
    source = root / "src"
    for relative, text in MODULES.items():
        path = source / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).replace("{version}", str(version)))
    return source


@pytest.fixture
def stores() -> Iterator[LiveStores]:
    handle = LiveStores(MemoryKVStore("versions"), MemoryObjectStore())
    yield handle
    handle.release()


def task(source: Path, process: str, stores: LiveStores, **values: Any) -> ProcessTask:
    """A worker's task: the function from the version of ``source``'s code."""
    return ProcessTask(
        run_id="r",
        project="versions",
        process=process,
        function=FunctionRef("pipeline", process, str(source), source_digest(source)),
        stores=stores,
        params={k: v for k, v in values.items() if k != "make"},
        upstream={"make": values["make"]} if "make" in values else {},
        spill_threshold=DEFAULT_SPILL_THRESHOLD,
    )


def value(outcome: ProcessOutcome) -> Any:
    assert outcome.status is ProcessStatus.COMPLETED, outcome.traceback
    result = outcome.result
    if isinstance(result, PayloadRef) and result.inline is not None:
        return pickle.loads(result.inline)  # noqa: S301 - made by the task just run
    return result


@pytest.fixture
def driver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``driver(source)``: the project imported by its plain names, as the driver does."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    names = ("pipeline", "helpers", "pkg", "pkg.sub")

    def imported(source: Path) -> Any:
        sys.path.insert(0, str(source))
        for name in names:
            sys.modules.pop(name, None)
        return __import__("pipeline")

    yield imported
    for name in names:
        sys.modules.pop(name, None)


# ------------------------------------------------------------------ side by side


def test_two_versions_run_side_by_side_each_with_its_own_sibling_modules(
    tmp_path: Path, stores: LiveStores
) -> None:
    first, second = write_version(tmp_path / "v1", 1), write_version(tmp_path / "v2", 2)
    barrier = threading.Barrier(2)

    with ThreadPoolExecutor(2) as pool:
        one = pool.submit(execute_process, task(first, "late", stores, barrier=barrier))
        two = pool.submit(execute_process, task(second, "late", stores, barrier=barrier))

    # Either failing breaks the other's barrier: both tracebacks say which failed first.
    outcomes = [one.result(), two.result()]
    assert all(o.status is ProcessStatus.COMPLETED for o in outcomes), [
        o.traceback for o in outcomes
    ]
    assert [value(o) for o in outcomes] == [[1, 1, 1, 1], [2, 2, 2, 2]]


def test_a_version_edited_in_place_is_imported_afresh_under_its_new_digest(
    tmp_path: Path,
) -> None:
    source = write_version(tmp_path / "p", 1)
    with FunctionRef("pipeline", "make", str(source), source_digest(source)).held() as old:
        write_version(tmp_path / "p", 2)  # the same size, within the same second
        new_ref = FunctionRef("pipeline", "make", str(source), source_digest(source))
        with new_ref.held() as new:
            assert old.version is not None
            assert new.version is not None
            assert old.version.package != new.version.package
            old_module = old.version.import_module("pipeline")
            new_module = new.version.import_module("pipeline")
            assert (old_module.VERSION, new_module.VERSION) == (1, 2)
            assert old_module.helpers.VERSION == 1


def test_the_digest_covers_every_source_file_and_no_cached_bytecode(tmp_path: Path) -> None:
    source = write_version(tmp_path / "p", 1)
    before = source_digest(source)
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "pipeline.cpython-311.pyc").write_bytes(b"stale")

    assert source_digest(source) == before
    (source / "pkg" / "sub.py").write_text("SUB_VERSION = 7\n")
    assert source_digest(source) != before


# ------------------------------------------------------------------ pickling


def test_a_result_made_in_a_version_has_the_bytes_the_driver_writes(
    tmp_path: Path, driver: Any
) -> None:
    source = write_version(tmp_path / "p", 1)
    with FunctionRef("pipeline", "make", str(source), "v1").held() as code:
        assert code.version is not None
        mine = code.version.import_module("pipeline")
        assert mine.__name__ != "pipeline"  # the version's own name, not the plain one
        made = [mine.Model(1), mine.Model.Part("x"), mine.Kind.A, mine.double, mine.Model]
        encoded = encode_result(made, what="the result")
    plain = driver(source)
    expected = [plain.Model(1), plain.Model.Part("x"), plain.Kind.A, plain.double, plain.Model]

    assert b"_mlops_code_" not in encoded.data
    assert encoded.data == pickle.dumps(expected, protocol=5)
    read = pickle.loads(encoded.data)  # noqa: S301 - made above
    assert read == expected
    assert type(read[0]) is plain.Model


def test_upstream_results_unpickle_as_the_tasks_own_version(
    tmp_path: Path, stores: LiveStores
) -> None:
    first, second = write_version(tmp_path / "v1", 1), write_version(tmp_path / "v2", 2)
    made = execute_process(task(first, "make", stores)).result
    assert isinstance(made, PayloadRef)

    checked = execute_process(task(second, "check", stores, make=made))

    assert value(checked) == [1, 2]  # version 1's value, in version 2's class


def test_a_cached_result_read_on_a_worker_is_of_the_readers_version(
    tmp_path: Path, driver: Any
) -> None:
    source = write_version(tmp_path / "p", 3)
    kv, objects = MemoryKVStore("versions"), MemoryObjectStore()
    with FunctionRef("pipeline", "make", str(source), "v3").held() as code:
        assert code.version is not None
        model = code.version.import_module("pipeline").Model(3)
        state = StepStateManager(kv, objects, loads=code.loads)
        entry = state.store("k" * 64, "make", encode_result(model, what="make"), run_id="r")
        state.save_object("checkpoint", model)

        assert state.load(entry) == model
        assert type(state.load_object("checkpoint")) is type(model)
    plain = driver(source)  # the driver, or mlops.load_result in a user's shell
    assert type(StepStateManager(kv, objects).load(entry)) is plain.Model


# ------------------------------------------------------------------ lifetime


def test_a_version_leaves_only_when_no_task_holds_it_and_a_newer_one_came(
    tmp_path: Path,
) -> None:
    source = write_version(tmp_path / "p", 1)
    project = str(tmp_path / "driver-path")

    def modules(package: str) -> set[str]:
        return {n for n in list(sys.modules) if n.split(".")[0] == package}

    with hold(str(source), "a", project=project) as old:
        old.import_module("pipeline")
        with hold(str(source), "b", project=project) as new:
            new.import_module("pipeline")
        assert modules(old.package) >= {old.package, f"{old.package}.pipeline"}
    assert modules(old.package) == set()  # released, and version b is newer
    assert modules(new.package) >= {new.package, f"{new.package}.pipeline"}  # the newest stays
    assert [v.package for v in live_versions() if v.project == project] == [new.package]


def test_nothing_of_a_project_is_imported_by_its_plain_name_on_a_worker(
    tmp_path: Path, stores: LiveStores, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))
    source = write_version(tmp_path / "p", 4)
    # Another test of this worker may have imported a project's "pipeline" in-process:
    # what counts is what this execution imports.
    before = set(sys.modules)

    assert value(execute_process(task(source, "late", stores))) == [4, 4, 4, 4]
    assert not {"pipeline", "helpers", "pkg", "pkg.sub"} & (set(sys.modules) - before)
    assert str(source) not in sys.path


# ------------------------------------------------------------------ under threads


def test_tasks_of_three_versions_interleaved_on_four_threads_each_see_their_own(
    tmp_path: Path, stores: LiveStores, driver: Any
) -> None:
    """A worker's threads running tasks of three versions at once, while a
    communication thread unpickles the next tasks' arguments (upstream results):
    no task may find its module gone, a sibling of another version, or an
    upstream value of another version's class."""
    sources = {n: write_version(tmp_path / f"v{n}", n) for n in (1, 2, 3)}
    made = {n: execute_process(task(sources[n], "make", stores)).result for n in sources}
    tasks = [
        task(sources[n], kind, stores, **({"make": made[n]} if kind == "check" else {}))
        for _ in range(12)
        for kind in ("hammer", "check")
        for n in sources
    ]
    # What Dask does: the driver pickles a task, the worker's communication thread
    # unpickles it, and a task thread runs it.
    comm = ThreadPoolExecutor(1, thread_name_prefix="comm")
    with ThreadPoolExecutor(4, thread_name_prefix="task") as runners:
        arrived = [comm.submit(pickle.loads, pickle.dumps(t)) for t in tasks]
        outcomes = [runners.submit(execute_process, a.result()) for a in arrived]
    comm.shutdown()

    driver(sources[1])  # results come back to a driver that imported the project
    for t, outcome in zip(tasks, outcomes, strict=True):
        version = int(Path(t.function.source_root or "").parent.name[1:])
        expected = [version, version] if t.process == "check" else None
        result = value(outcome.result())
        if expected is None:
            assert result.version == version
        else:
            assert result == expected


def test_the_version_finder_is_installed_once(tmp_path: Path) -> None:
    source = write_version(tmp_path / "p", 5)
    with hold(str(source), "x"), hold(str(source), "y"):
        pass
    assert sum(f is code_versions._FINDER for f in sys.meta_path) == 1
