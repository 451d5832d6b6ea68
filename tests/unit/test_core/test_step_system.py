"""StepContext, StepContextFactory, @process and @step."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from mlops.cache.payload_spill import PayloadRef, encode_result
from mlops.cache.step_state_manager import StepStateManager
from mlops.engine.step_system import (
    ProcessOptions,
    RunOptions,
    StepContext,
    StepContextFactory,
    current_context,
    process,
    process_options,
    step,
)
from mlops.errors import ConfigError, ExecutionError
from mlops.storage.backends.memory import MemoryKVStore, MemoryObjectStore


def make_context(**fields: Any) -> StepContext:
    defaults: dict[str, Any] = {"run_id": "r1", "project": "p", "process_name": "train"}
    return StepContext(**{**defaults, **fields})


# ------------------------------------------------------------------ the factory


def test_factory_isolates_runs_and_processes() -> None:
    factory = StepContextFactory()
    a = factory.get_context("run-1", "train", project="p")
    b = factory.get_context("run-2", "train", project="p")
    c = factory.get_context("run-1", "evaluate", project="p")
    a.step_results["x"] = 1
    assert a is not b
    assert a is not c
    assert "x" not in b.step_results
    assert "x" not in c.step_results
    assert (a.run_id, a.process_name, a.project) == ("run-1", "train", "p")


def test_factory_reuses_the_context_of_the_same_run_and_process() -> None:
    factory = StepContextFactory()
    first = factory.get_context("run-1", "train", params={"lr": 1})
    again = factory.get_context("run-1", "train")
    assert first is again
    assert again.params == {"lr": 1}


def test_factory_cleanup_forgets_one_run() -> None:
    factory = StepContextFactory()
    factory.get_context("run-1", "a")
    factory.get_context("run-1", "b")
    kept = factory.get_context("run-2", "a")
    assert set(factory.contexts("run-1")) == {"a", "b"}
    assert factory.cleanup("run-1") == 2
    assert factory.contexts("run-1") == {}
    assert len(factory) == 1
    assert factory.get_context("run-2", "a") is kept
    assert factory.get_context("run-1", "a") is not None
    assert len(factory) == 2


def test_factory_is_thread_safe() -> None:
    factory = StepContextFactory()
    seen: list[StepContext] = []

    def grab() -> None:
        seen.append(factory.get_context("run", "p"))

    threads = [threading.Thread(target=grab) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 1


# ------------------------------------------------------------------ results and data


def test_get_step_result_reads_upstream_and_steps() -> None:
    ctx = make_context(upstream={"load": [1, 2]})
    ctx.step_results["clean"] = [1]
    assert ctx.get_step_result("load") == [1, 2]
    assert ctx.get_step_result("clean") == [1]


def test_get_step_result_hydrates_references_once() -> None:
    objects = MemoryObjectStore()
    encoded = encode_result({"big": list(range(5))}, what="x")
    objects.put("payload.pkl", encoded.data)
    calls: list[object] = []

    def resolve(value: object) -> object:
        calls.append(value)
        from mlops.cache.payload_spill import hydrate

        return hydrate(value, objects)

    ref = PayloadRef("payload.pkl", encoded.size, encoded.digest)
    ctx = make_context(upstream={"load": ref}, resolve=resolve)
    assert ctx.get_step_result("load") == {"big": [0, 1, 2, 3, 4]}
    assert ctx.get_step_result("load") == {"big": [0, 1, 2, 3, 4]}
    assert len(calls) == 1


def test_get_step_result_unknown_name_lists_what_is_available() -> None:
    ctx = make_context(upstream={"load": 1})
    with pytest.raises(ExecutionError, match=r"'missing'.*available: load"):
        ctx.get_step_result("missing")
    with pytest.raises(ExecutionError, match="add the process upstream"):
        make_context().get_step_result("missing")


class Model:
    accuracy = 0.9


@pytest.mark.parametrize(
    ("value", "key", "expected"),
    [
        ({"a": 1}, "a", 1),
        (Model(), "accuracy", 0.9),
        ([1, 2], None, [1, 2]),
        ("text", None, "text"),
    ],
    ids=["mapping-key", "attribute", "whole-list", "whole-string"],
)
def test_get_step_data_reads_items_and_attributes(
    value: object, key: str | None, expected: object
) -> None:
    ctx = make_context(upstream={"x": value})
    assert ctx.get_step_data("x", key) == expected


def test_get_step_data_missing_key_uses_default_or_explains() -> None:
    ctx = make_context(upstream={"x": {"a": 1}})
    assert ctx.get_step_data("x", "b", default=None) is None
    with pytest.raises(ExecutionError, match="has no 'b'"):
        ctx.get_step_data("x", "b")


# ------------------------------------------------------------------ metrics


@pytest.mark.parametrize("value", [1, 0.5], ids=["int", "float"])
def test_log_metric_records_numbers(value: float) -> None:
    ctx = make_context()
    ctx.log_metric("m", value, step=3)
    assert ctx.metrics == [{"name": "m", "value": float(value), "step": 3, "process": "train"}]


@pytest.mark.parametrize(
    "value", ["high", float("nan"), None, True], ids=["str", "nan", "none", "bool"]
)
def test_log_metric_refuses_non_numbers(value: object) -> None:
    from mlops.tracking.experiment_tracker import TrackingError

    with pytest.raises((TrackingError, ConfigError)):
        make_context().log_metric("m", value)  # type: ignore[arg-type]


def test_log_metrics_in_a_loop_default_to_the_iteration() -> None:
    ctx = make_context(in_loop=True, iteration=4)
    ctx.log_metrics({"a": 1.0, "b": 2.0})
    assert [(m["name"], m["step"]) for m in ctx.metrics] == [("a", 4), ("b", 4)]


# ------------------------------------------------------------------ checkpoints and steps


def stateful_context(**fields: Any) -> StepContext:
    return make_context(state=StepStateManager(MemoryKVStore("p"), MemoryObjectStore()), **fields)


def test_checkpoints_are_per_process_key() -> None:
    state = StepStateManager(MemoryKVStore("p"), MemoryObjectStore())
    first = make_context(state=state, process_key="k1")
    first.save_checkpoint("epoch", {"n": 3})
    assert make_context(state=state, process_key="k1", run_id="r2").load_checkpoint("epoch") == {
        "n": 3
    }
    assert make_context(state=state, process_key="k2").load_checkpoint("epoch", "none") == "none"


def test_checkpoints_need_a_state_store() -> None:
    with pytest.raises(ExecutionError, match="save_checkpoint needs a state store"):
        make_context().save_checkpoint("x", 1)


calls: list[int] = []


@step
def square(x: int) -> int:
    calls.append(x)
    return x * x


def test_steps_outside_a_run_are_plain_calls() -> None:
    calls.clear()
    assert square(3) == 9
    assert square(3) == 9
    assert calls == [3, 3]
    assert current_context() is None


def test_steps_inside_a_run_are_cached_by_arguments() -> None:
    calls.clear()
    ctx = stateful_context(process_key="key-1")
    with ctx.activate():
        assert current_context() is ctx
        assert square(3) == 9
        assert square(3) == 9
        assert square(4) == 16
    assert calls == [3, 4]
    assert ctx.step_stats == {"ran": 2, "reused": 1}
    assert ctx.get_step_result("square") == 16
    rerun = stateful_context(process_key="key-1", reuse_steps=False)
    rerun.state = ctx.state
    with rerun.activate():
        square(3)
    assert calls == [3, 4, 3]


def test_call_fills_arguments_by_name() -> None:
    def train(ctx: StepContext, load: list[int], lr: float, epochs: int = 5) -> tuple[Any, ...]:
        return ctx.process_name, load, lr, epochs

    ctx = make_context(upstream={"load": [1]}, params={"lr": 0.1})
    assert ctx.call(train) == ("train", [1], 0.1, 5)


def test_call_with_an_unfillable_argument_explains() -> None:
    def train(mystery: int) -> int:
        return mystery

    with pytest.raises(ExecutionError, match="takes argument 'mystery'"):
        make_context().call(train)


# ------------------------------------------------------------------ @process


def test_process_decorator_records_options() -> None:
    @process
    def plain() -> None: ...

    @process(name="renamed", retries=2, timeout=1.5, iterations=3, cache=False)
    def configured() -> None: ...

    assert process_options(plain) == ProcessOptions(name="plain")
    options = process_options(configured)
    assert options is not None
    assert (options.name, options.retries, options.timeout, options.iterations, options.cache) == (
        "renamed",
        2,
        1.5,
        3,
        False,
    )
    assert process_options(len) is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"retries": -1}, "retries must be an integer >= 0"),
        ({"timeout": 0}, "timeout must be a number > 0"),
        ({"iterations": 1.5}, "iterations must be an integer >= 1"),
        ({"retries": True}, "retries must be"),
        ({"cache": "yes"}, "cache must be true or false"),
    ],
    ids=["negative-retries", "zero-timeout", "float-iterations", "bool-retries", "cache"],
)  # fmt: skip
def test_invalid_process_options_are_config_errors(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ProcessOptions(name="p").with_overrides(RunOptions(**overrides))


def test_overrides_replace_decorator_options() -> None:
    options = ProcessOptions(name="p", retries=1).with_overrides(RunOptions(retries=3))
    assert options.retries == 3
