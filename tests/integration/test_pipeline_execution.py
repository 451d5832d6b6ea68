"""Real runs of real project code: every executor, the cache, resume and selections.

Each test writes a project with ``@process`` functions into a temp workspace
and runs it through ``MLPlatform`` on the sequential executor and on a real
in-process Dask LocalCluster (``threads``); outcomes are checked in the run
record, the cache and the results, never in calls.
"""

from __future__ import annotations

import platform as platform_module
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from fixtures.projects import ProjectFactory, write_module
from mlops.cache.step_state_manager import StepStateManager
from mlops.config.schema import validate_project_config
from mlops.errors import ConfigError, GraphError
from mlops.session.platform import MLPlatform, PipelineWarning
from mlops.tracking.run_records import get_run, list_runs
from mlops.tracking.status import ProcessStatus, RunStatus

EXECUTORS = pytest.mark.parametrize("executor", ["sequential", "threads"])

DIAMOND = """
from mlops import process

@process
def load(ctx, size):
    ctx.log_metric("rows", size)
    return list(range(size))

@process
def double(load):
    return [2 * x for x in load]

@process
def square(load):
    return [x * x for x in load]

@process
def combine(ctx, double, square):
    total = sum(double) + sum(square)
    ctx.log_metric("total", total)
    return total
"""
DIAMOND_GRAPH = "load double square\ndouble combine\nsquare combine"


def statuses(report: Any) -> dict[str, str]:
    return {name: record.status.value for name, record in report.processes.items()}


@EXECUTORS
def test_diamond_runs_then_is_fully_reused(make_project: ProjectFactory, executor: str) -> None:
    make_project("diamond", DIAMOND, DIAMOND_GRAPH, params={"size": 4})
    platform = MLPlatform()
    first = platform.run_pipeline_for_project("diamond", executor=executor)
    assert first.status is RunStatus.COMPLETED
    assert statuses(first) == dict.fromkeys(("load", "double", "square", "combine"), "completed")
    assert first.result("combine") == 2 * 6 + 14
    second = platform.run_pipeline_for_project("diamond", executor=executor)
    assert statuses(second) == dict.fromkeys(("load", "double", "square", "combine"), "cached")
    assert second.result("combine") == 26
    assert all(r.reason and r.reason.startswith("reused") for r in second.processes.values())
    record = get_run(platform.open_stores("diamond", platform.load("diamond")[1]).kv, second.run_id)
    assert record is not None
    assert record["status"] == "completed"
    assert record["executor"] == executor
    assert record["processes"]["combine"]["cache_hit"] is True
    assert record["metrics"] == {"load.rows": 4.0, "combine.total": 26.0}
    environment = record["environment"]
    assert environment["manager"] == "system"
    assert environment["python"] == platform_module.python_version()
    assert "mlops" in {name.lower() for name in environment["packages"]}
    assert record["seed"] == 7


@EXECUTORS
def test_failure_skips_descendants_and_finishes_independent_branches(
    make_project: ProjectFactory, executor: str
) -> None:
    source = DIAMOND.replace("return [x * x for x in load]", "raise ValueError('bad square')")
    make_project("fails", source, DIAMOND_GRAPH, params={"size": 3})
    report = MLPlatform().run_pipeline_for_project("fails", executor=executor)
    assert report.status is RunStatus.FAILED
    assert report.failed_process == "square"
    assert statuses(report) == {
        "load": "completed", "double": "completed", "square": "failed", "combine": "skipped",
    }  # fmt: skip
    square = report.processes["square"]
    assert square.error == "ValueError: bad square"
    assert square.traceback
    assert "bad square" in square.traceback
    assert report.processes["combine"].reason == "skipped: upstream 'square' failed"
    assert report.record["error"] == {"process": "square", "message": "ValueError: bad square"}


def test_next_run_resumes_from_the_failed_process(make_project: ProjectFactory) -> None:
    failing = DIAMOND.replace("return [x * x for x in load]", "raise ValueError('bad square')")
    project = make_project("resume", failing, DIAMOND_GRAPH, params={"size": 3})
    platform = MLPlatform()
    failed = platform.run_pipeline_for_project("resume")
    write_module(project, "pipeline.py", DIAMOND)
    resumed = platform.run_pipeline_for_project("resume")
    assert statuses(resumed) == {
        "load": "cached", "double": "cached", "square": "completed", "combine": "completed",
    }  # fmt: skip
    assert resumed.record["resumed_from"] == failed.run_id
    assert resumed.processes["square"].reason == f"ran: its code changed since run {failed.run_id}"


def test_explain_names_the_changed_parameter_and_the_upstream(make_project: ProjectFactory) -> None:
    make_project("explain", DIAMOND, DIAMOND_GRAPH, params={"size": 3})
    platform = MLPlatform()
    first = platform.run_pipeline_for_project("explain")
    assert {r.reason for r in first.processes.values()} == {"ran: first run (nothing cached)"}
    platform.projects.config_set("explain", ["model.parameters.size=5"])
    second = platform.run_pipeline_for_project("explain")
    reasons = {name: r.reason for name, r in second.processes.items()}
    since = f" since run {first.run_id}"
    assert reasons["load"] == "ran: parameters changed (size: 3 -> 5)" + since
    # Only load takes size: the others rerun because load's result changed.
    assert reasons["double"] == "ran: upstream results changed (load)" + since
    assert reasons["square"] == "ran: upstream results changed (load)" + since
    assert second.result("combine") == 2 * 10 + 30


def test_unchanged_upstream_result_keeps_downstream_cached(make_project: ProjectFactory) -> None:
    """A process that reruns but returns the same result does not invalidate what follows."""
    source = DIAMOND
    project = make_project("cutoff", source, DIAMOND_GRAPH, params={"size": 3})
    platform = MLPlatform()
    platform.run_pipeline_for_project("cutoff")
    write_module(project, "pipeline.py", source.replace('ctx.log_metric("rows", size)', "pass"))
    again = platform.run_pipeline_for_project("cutoff")
    assert statuses(again) == {
        "load": "completed", "double": "cached", "square": "cached", "combine": "cached",
    }  # fmt: skip


def test_no_cache_runs_everything(make_project: ProjectFactory) -> None:
    make_project("nocache", DIAMOND, DIAMOND_GRAPH, params={"size": 2})
    platform = MLPlatform()
    platform.run_pipeline_for_project("nocache")
    report = platform.run_pipeline_for_project("nocache", use_cache=False)
    assert set(statuses(report).values()) == {"completed"}
    assert {r.reason for r in report.processes.values()} == {"ran: --no-cache"}


def test_from_reruns_the_process_and_its_descendants(make_project: ProjectFactory) -> None:
    make_project("from", DIAMOND, DIAMOND_GRAPH, params={"size": 2})
    platform = MLPlatform()
    platform.run_pipeline_for_project("from")
    report = platform.run_pipeline_for_project("from", from_process="square")
    assert statuses(report) == {
        "load": "cached", "double": "cached", "square": "completed", "combine": "completed",
    }  # fmt: skip
    assert report.processes["square"].reason == "ran: selected by --from square"


def test_only_runs_one_process_with_cached_inputs(make_project: ProjectFactory) -> None:
    make_project("only", DIAMOND, DIAMOND_GRAPH, params={"size": 2})
    platform = MLPlatform()
    with pytest.raises(GraphError, match="--only combine needs the result of 'load'"):
        platform.run_pipeline_for_project("only", only="combine")
    platform.run_pipeline_for_project("only")
    report = platform.run_pipeline_for_project("only", only="double")
    assert statuses(report) == {
        "load": "cached", "double": "completed", "square": "skipped", "combine": "skipped",
    }  # fmt: skip
    assert report.processes["square"].reason == "skipped: not selected (--only)"


@pytest.mark.parametrize(
    ("selection", "message"),
    [({"only": "nope"}, "--only nope: no such process"), ({"from_process": "nope"}, "--from nope"),
     ({"only": "load", "from_process": "load"}, "cannot be used together")],
    ids=["only-unknown", "from-unknown", "both"],
)  # fmt: skip
def test_bad_selections_are_graph_errors(
    make_project: ProjectFactory, selection: dict[str, str], message: str
) -> None:
    make_project("sel", DIAMOND, DIAMOND_GRAPH, params={"size": 2})
    with pytest.raises(GraphError, match=message):
        MLPlatform().run_pipeline_for_project("sel", **selection)


def test_retries_with_backoff_then_success(make_project: ProjectFactory, tmp_path: Path) -> None:
    counter = tmp_path / "attempts"
    source = f"""
        from pathlib import Path
        from mlops import process

        @process(retries=2, retry_backoff=0.01)
        def flaky():
            path = Path({str(counter)!r})
            n = int(path.read_text()) if path.exists() else 0
            path.write_text(str(n + 1))
            if n < 2:
                raise ConnectionError("try again")
            return n
    """
    make_project("retry", source, "flaky")
    report = MLPlatform().run_pipeline_for_project("retry")
    assert report.ok
    assert report.result("flaky") == 2
    assert report.processes["flaky"].attempts == 3


def test_retries_exhausted_fail_with_the_last_error(make_project: ProjectFactory) -> None:
    source = """
        from mlops import process

        @process
        def flaky():
            raise ConnectionError("still down")
    """
    make_project("retry2", source, "flaky", processes={"flaky": {"retries": 1, "retry_backoff": 0}})
    report = MLPlatform().run_pipeline_for_project("retry2")
    assert report.processes["flaky"].attempts == 2
    assert report.processes["flaky"].error == "ConnectionError: still down"


@EXECUTORS
def test_timeout_fails_the_process(make_project: ProjectFactory, executor: str) -> None:
    source = """
        import threading
        from mlops import process

        @process(timeout=0.2)
        def slow():
            threading.Event().wait(5)

        @process
        def quick():
            return 1
    """
    make_project("timeout", source, "slow\nquick")
    report = MLPlatform().run_pipeline_for_project("timeout", executor=executor)
    assert statuses(report) == {"slow": "failed", "quick": "completed"}
    assert (
        report.processes["slow"].error == "ProcessTimeoutError: process 'slow' timed out after 0.2s"
    )


def test_a_retry_after_a_timeout_keeps_nothing_of_the_abandoned_attempt(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    # The first attempt logs a metric, overruns its timeout, and goes on logging
    # after it was abandoned (a thread cannot be stopped); the retry is quick.
    # ``later`` runs after it, so the run ends after the late writes were tried.
    counter = tmp_path / "attempts"
    source = f"""
        import threading
        from pathlib import Path
        from mlops import process

        COUNTER = Path({str(counter)!r})

        @process
        def fit(ctx):
            attempt = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
            COUNTER.write_text(str(attempt))
            ctx.log_metric("attempt", attempt)
            if attempt == 1:
                threading.Event().wait(0.8)
                ctx.save_checkpoint("late", "written")
                ctx.log_metric("late", 1)
                return "abandoned"
            return ctx.load_checkpoint("late", "retried")

        @process
        def later(fit):
            threading.Event().wait(1.2)
            return fit
    """
    make_project(
        "timeoutretry",
        source,
        "fit later",
        processes={"fit": {"timeout": 0.4, "retries": 1, "retry_backoff": 0}},
    )
    platform = MLPlatform()
    report = platform.run_pipeline_for_project("timeoutretry")
    assert report.ok
    assert report.result("fit") == "retried"
    kv = platform.open_stores("timeoutretry", platform.load("timeoutretry")[1]).kv
    record = get_run(kv, report.run_id)
    assert record is not None
    fit = record["processes"]["fit"]
    assert (fit["status"], fit["attempts"]) == ("completed", 2)
    assert [(m["name"], m["value"]) for m in fit["metrics"]] == [("attempt", 2.0)]
    assert record["metrics"] == {"fit.attempt": 2.0}
    entry = StepStateManager(
        kv, platform.open_stores("timeoutretry", platform.load("timeoutretry")[1]).objects
    ).lookup(str(fit["key"]))
    assert entry is not None
    assert [(m["name"], m["value"]) for m in entry.metrics] == [("attempt", 2.0)]
    # The abandoned attempt's checkpoint never landed: a rerun with the same inputs finds none.
    rerun = platform.run_pipeline_for_project("timeoutretry", use_cache=False)
    assert rerun.result("fit") == "retried"


@pytest.mark.parametrize("executor", ["sequential", "threads"])
def test_a_timed_out_attempt_is_stopped_not_left_running(
    make_project: ProjectFactory, tmp_path: Path, executor: str
) -> None:
    # The attempt spins in Python, counting into a file, and never returns on its own.
    # These executors run it on a thread of this interpreter: once the run is over,
    # the count must stand still. (The processes executor's workers end with the run.)
    counter = tmp_path / "spins"
    source = f"""
        from pathlib import Path
        from mlops import process

        COUNTER = Path({str(counter)!r})

        @process
        def spin(ctx):
            while True:
                with COUNTER.open("a") as out:
                    out.write(".")
    """
    make_project(f"stopped{executor}", source, "spin", processes={"spin": {"timeout": 0.3}})
    report = MLPlatform().run_pipeline_for_project(f"stopped{executor}", executor=executor)
    assert report.processes["spin"].status == "failed"
    assert "timed out after 0.3s" in str(report.processes["spin"].error)
    before = counter.stat().st_size
    time.sleep(0.5)
    assert before > 0
    assert counter.stat().st_size == before


def test_a_run_whose_scheduler_raises_is_recorded_failed(make_project: ProjectFactory) -> None:
    # What the caller hands the run can end the program (here its progress callback):
    # that leaves the scheduler, and the run must still be recorded as failed, not left
    # "running". (A process that calls sys.exit is a failed process: test_process_exits.)
    source = """
        from mlops import process

        @process
        def leave():
            return 1
    """
    make_project("leaves", source, "leave")
    platform = MLPlatform()

    def leave_the_program(record: object) -> None:
        sys.exit(3)

    with pytest.raises(SystemExit):
        platform.run_pipeline_for_project(
            "leaves", run_id="run-that-exits", on_update=leave_the_program
        )
    record = get_run(
        platform.open_stores("leaves", platform.load("leaves")[1]).kv, "run-that-exits"
    )
    assert record is not None
    assert record["status"] == "failed"
    assert record["error"] == {"message": "SystemExit(3)"}
    assert record["finished_at"]


def test_each_process_draws_its_own_seeded_stream_whatever_runs_before_it(
    make_project: ProjectFactory,
) -> None:
    source = """
        import random
        from mlops import process

        @process
        def first():
            return random.random()

        @process
        def second():
            return random.random()
    """
    make_project("seeded", source, "first\nsecond")
    platform = MLPlatform()
    both = platform.run_pipeline_for_project("seeded", use_cache=False)
    alone = platform.run_pipeline_for_project("seeded", use_cache=False, only="second")
    assert alone.processes["second"].status is ProcessStatus.COMPLETED
    assert alone.result("second") == both.result("second")
    assert both.result("first") != both.result("second")
    reseeded = platform.run_pipeline_for_project("seeded", use_cache=False)
    assert (reseeded.result("first"), reseeded.result("second")) == (
        both.result("first"), both.result("second"),
    )  # fmt: skip


def test_condition_false_skips_the_process_and_its_descendants(
    make_project: ProjectFactory,
) -> None:
    source = """
        from mlops import process

        @process
        def check():
            return {"ok": False}

        @process(condition=lambda check: check["ok"])
        def train(check):
            return "trained"

        @process
        def deploy(train):
            return train

        @process(condition=lambda ctx: not ctx.get_step_result("check")["ok"])
        def alert(check):
            return "alerted"
    """
    make_project("cond", source, "check train alert\ntrain deploy")
    report = MLPlatform().run_pipeline_for_project("cond")
    assert report.ok
    assert statuses(report) == {
        "check": "completed", "train": "skipped", "alert": "completed", "deploy": "skipped",
    }  # fmt: skip
    assert report.processes["train"].reason == "skipped: its condition was false"
    assert report.processes["deploy"].reason == "skipped: upstream 'train' skipped"


def test_loops_by_count_and_until(make_project: ProjectFactory) -> None:
    source = """
        from mlops import process

        @process(iterations=3)
        def counted(ctx):
            ctx.log_metric("i", ctx.iteration)
            return (ctx.previous_result or 0) + 1

        @process(until=lambda ctx, result: result >= 10, max_iterations=50)
        def doubled(ctx):
            return (ctx.previous_result or 1) * 2

        @process(until=lambda ctx, result: False, max_iterations=2)
        def endless(ctx):
            return 0
    """
    make_project("loops", source, "counted\ndoubled\nendless")
    report = MLPlatform().run_pipeline_for_project("loops")
    assert report.result("counted") == 3
    assert report.processes["counted"].iterations == 3
    assert [(m["value"], m["step"]) for m in report.processes["counted"].metrics] == [
        (0.0, 0), (1.0, 1), (2.0, 2),
    ]  # fmt: skip
    assert report.result("doubled") == 16
    assert report.processes["doubled"].iterations == 4
    assert report.processes["endless"].status is ProcessStatus.FAILED
    assert "still false after 2 iterations" in str(report.processes["endless"].error)


def test_steps_are_cached_inside_a_rerun_process(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    log = tmp_path / "calls.txt"
    source = f"""
        from mlops.engine.step_system import process, step

        @step
        def expensive(n):
            with open({str(log)!r}, "a") as f:
                f.write(f"{{n}}\\n")
            return n * 10

        @process
        def work(ctx, n, extra):
            return expensive(n) + extra
    """
    make_project("steps", source, "work", params={"n": 2, "extra": 1})
    platform = MLPlatform()
    platform.run_pipeline_for_project("steps")
    platform.projects.config_set("steps", ["model.parameters.extra=5"])
    report = platform.run_pipeline_for_project("steps")
    # The process reran (its params changed) and so did its step: the step key includes
    # the process key, so a step result is never reused under different inputs.
    assert report.result("work") == 25
    assert log.read_text().split() == ["2", "2"]


def test_large_results_spill_and_hydrate(make_project: ProjectFactory) -> None:
    source = """
        from mlops import process

        @process
        def big():
            return b"x" * 200_000

        @process
        def size(big):
            return len(big)
    """
    make_project("spill", source, "big size", processes={})
    report = MLPlatform().run_pipeline_for_project("spill")
    assert report.result("size") == 200_000
    assert report.result("big") == b"x" * 200_000


def test_data_inputs_join_the_key(make_project: ProjectFactory) -> None:
    source = """
        from mlops import process

        @process
        def read(ctx):
            return (ctx.project_dir / "data" / "in.txt").read_text()
    """
    project = make_project("inputs", source, "read", processes={"read": {"inputs": ["data/*.txt"]}})
    (project / "data" / "in.txt").write_text("one")
    platform = MLPlatform()
    first = platform.run_pipeline_for_project("inputs")
    assert first.result("read") == "one"
    (project / "data" / "in.txt").write_text("two")
    report = platform.run_pipeline_for_project("inputs")
    assert report.result("read") == "two"
    assert report.processes["read"].reason == (
        f"ran: input files changed (data/in.txt) since run {first.run_id}"
    )


def test_missing_inputs_are_config_errors(make_project: ProjectFactory) -> None:
    source = "from mlops import process\n\n@process\ndef read():\n    return 1\n"
    make_project("noinput", source, "read", processes={"read": {"inputs": ["data/missing.csv"]}})
    with pytest.raises(ConfigError, match=r"'data/missing\.csv' matches no file"):
        MLPlatform().run_pipeline_for_project("noinput")


@pytest.mark.parametrize(
    ("source", "graph", "error", "message"),
    [
        (DIAMOND, "load double\ndouble lod", GraphError, r"'lod'.*did you mean 'load'"),
        (DIAMOND, "load double\ndouble load", GraphError, "cycle: load -> double -> load"),
        ("from mlops import process\n\n@process\ndef a(nothing):\n    return 1\n",
         "a", GraphError, "takes argument 'nothing'"),
        ("import nonexistent_xyz\n", "a", Exception, "cannot import project module 'pipeline'"),
        ("def broken(:\n", "a", Exception, "pipeline.py:1: cannot import"),
    ],
    ids=["unknown-process", "cycle", "unfilled-argument", "import-error", "syntax-error"],
)  # fmt: skip
def test_project_mistakes_fail_before_anything_runs(
    make_project: ProjectFactory, source: str, graph: str, error: type[Exception], message: str
) -> None:
    make_project("broken", source, graph, params={"size": 1})
    platform = MLPlatform()
    with pytest.raises(error, match=message):
        platform.run_pipeline_for_project("broken")
    # The project's stores are the defaults (a cyclic config no longer loads at all).
    defaults = validate_project_config({"model": {"name": "broken"}}, "defaults")
    assert list_runs(platform.open_stores("broken", defaults).kv) == []


def test_unused_processes_warn(make_project: ProjectFactory) -> None:
    make_project("unused", DIAMOND, "load double", params={"size": 1})
    with pytest.warns(PipelineWarning, match="is defined but not in the pipeline") as caught:
        report = MLPlatform().run_pipeline_for_project("unused")
    assert sorted(str(w.message).split("'")[1] for w in caught) == ["combine", "square"]
    assert report.record["warnings"] == report.warnings
    assert len(report.warnings) == 2


def test_memory_stores_are_refused_for_worker_processes(make_project: ProjectFactory) -> None:
    make_project(
        "memproc", DIAMOND, DIAMOND_GRAPH, params={"size": 1},
        extra={"storage": {"kv": {"backend": "memory"}}},
    )  # fmt: skip
    with pytest.raises(ConfigError, match="memory backend cannot be shared"):
        MLPlatform().run_pipeline_for_project("memproc", executor="processes")


def test_two_projects_with_the_same_module_name_do_not_mix(make_project: ProjectFactory) -> None:
    one = "from mlops import process\n\n@process\ndef value():\n    return 1\n"
    make_project("first", one, "value")
    make_project("second", one.replace("return 1", "return 2"), "value")
    platform = MLPlatform()
    assert platform.run_pipeline_for_project("first").result("value") == 1
    assert platform.run_pipeline_for_project("second").result("value") == 2
    assert platform.run_pipeline_for_project("first", use_cache=False).result("value") == 1
