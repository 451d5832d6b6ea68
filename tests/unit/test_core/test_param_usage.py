"""Which parameters a process reads, found in its code: what its cache key covers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlops.engine.param_usage import param_usage
from mlops.engine.step_system import StepContext


def reads_by_literal_keys(ctx: Any) -> Any:
    size = ctx.params["test_size"]
    seed = ctx.params.get("split_seed", 0)
    if "stratify" in ctx.params:
        return size, seed
    ctx.log_metric("size", size)  # other attributes of the context read no parameter
    return size


def takes_by_name(ctx: Any, load: Any, alpha: float, beta: int = 2) -> Any:
    return load, alpha, beta


def _helper(context: Any, scale: float) -> Any:
    return context.params["depth"] * scale


def _keyword_helper(*, the_context: Any) -> Any:
    return the_context.params.get("width")


def passes_the_context_on(ctx: Any) -> Any:
    return _helper(ctx, 2.0) + _keyword_helper(the_context=ctx)


def annotated(context: StepContext) -> Any:
    return context.params["lr"]


def passes_params_whole(ctx: Any) -> Any:
    return dict(ctx.params)


def indexes_by_variable(ctx: Any) -> Any:
    name = "x"
    return ctx.params[name]


def hands_the_context_to_a_builtin(ctx: Any) -> Any:
    return repr(ctx)


def stores_the_context(ctx: Any) -> Any:
    kept = [ctx]
    return kept[0].params


def reads_nothing(ctx: Any, load: Any) -> Any:
    ctx.log_metric("n", len(load))
    return load


@pytest.mark.parametrize(
    ("function", "arguments", "reads"),
    [(reads_by_literal_keys, set(), {"test_size", "split_seed", "stratify"}),
     (takes_by_name, {"load", "alpha", "beta"}, set()),
     (passes_the_context_on, set(), {"depth", "width"}),
     (annotated, set(), {"lr"}),
     (reads_nothing, {"load"}, set())],
    ids=["literal-keys", "by-name", "through-callees", "annotated-context", "nothing"],
)  # fmt: skip
def test_reads_are_found_in_the_code(function: Any, arguments: set[str], reads: set[str]) -> None:
    usage = param_usage(function)
    assert usage.unresolved is None
    assert (set(usage.arguments), set(usage.reads)) == (arguments, reads)


@pytest.mark.parametrize(
    ("function", "why"),
    [(passes_params_whole, "ctx.params is used other than by a literal key at test_param_usage"),
     (indexes_by_variable, "ctx.params is used other than by a literal key at test_param_usage"),
     (hands_the_context_to_a_builtin, "the context is passed to code mlops cannot read at"),
     (stores_the_context, "the context is used whole at test_param_usage.py:")],
    ids=["params-whole", "variable-key", "builtin", "stored"],
)  # fmt: skip
def test_reads_that_cannot_be_known_make_every_parameter_count(function: Any, why: str) -> None:
    usage = param_usage(function)
    assert usage.unresolved is not None
    assert usage.unresolved.startswith(why)
    params = {"a": 1, "b": 2}
    assert usage.select(params, {}) == params


def test_the_line_named_is_the_line_of_the_read() -> None:
    usage = param_usage(indexes_by_variable)
    line = int(str(usage.unresolved).rsplit(":", 1)[1])
    source = Path(__file__).read_text(encoding="utf-8").splitlines()
    assert "ctx.params[name]" in source[line - 1]


def test_select_keeps_what_is_read_taken_or_the_process_own() -> None:
    usage = param_usage(reads_by_literal_keys)
    params = {"test_size": 0.3, "n_estimators": 100, "own": "x", "stratify": True}
    assert usage.select(params, {"own": "x"}) == {"test_size": 0.3, "own": "x", "stratify": True}
