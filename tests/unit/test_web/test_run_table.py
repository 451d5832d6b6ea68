"""The runs table's columns and order, on run summaries as the store holds them."""

from __future__ import annotations

from typing import Any

import pytest

from mlops.errors import ConfigError
from mlops.web.run_table import Columns, available, check_sort, sorted_runs


def run(run_id: str, **summary: Any) -> dict[str, Any]:
    return {"run_id": run_id, "started_at": run_id, **summary}


# Newest first, as the table gets them.
RUNS = [
    run("5", params={"lr": 0.3, "opt": "adam"}, metrics={"fit.loss": 0.2}, duration=1.0),
    run("4", params={"lr": 0.1, "opt": "sgd"}, metrics={"fit.loss": float("nan")}, duration=3.0),
    run("3", params={"lr": 0.2}, metrics={}, duration=None),
    run("2", params={"lr": 2, "opt": "adam"}, metrics={"fit.loss": 0.9}, duration=2.0),
    run("1", params={"opt": ["a", "b"]}, metrics={"fit.loss": 0.5}),
]


@pytest.mark.parametrize(
    ("sort", "descending", "order"),
    [(("param", "lr"), False, "43521"), (("param", "lr"), True, "25341"),
     (("metric", "loss"), False, "51243"), (("metric", "fit.loss"), True, "21543"),
     (("field", "duration"), False, "52431"), (("field", "started_at"), True, "54321"),
     (("param", "opt"), False, "52413")],
    ids=["param-up", "param-down", "metric-up", "metric-by-key-down", "field", "newest-first",
         "text-then-lists"],
)  # fmt: skip
def test_runs_sort_by_a_value_with_those_without_it_last_newest_first(
    sort: tuple[str, str], descending: bool, order: str
) -> None:
    assert "".join(r["run_id"] for r in sorted_runs(RUNS, sort, descending=descending)) == order


@pytest.mark.parametrize(
    ("sort", "parsed"),
    [("started_at", ("field", "started_at")), ("param:model.parameters.lr",
      ("param", "model.parameters.lr")), ("metric:fit.loss", ("metric", "fit.loss"))],
    ids=["field", "param", "metric"],
)  # fmt: skip
def test_a_sort_names_a_field_a_parameter_or_a_metric(sort: str, parsed: tuple[str, str]) -> None:
    assert check_sort(sort) == parsed


@pytest.mark.parametrize(
    "sort", ["pid", "param:", "metric", "param:../x", "loss:fit", ""], ids=repr
)
def test_any_other_sort_is_refused_in_one_line(sort: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_sort(sort)
    assert "\n" not in caught.value.one_line()


def test_chosen_columns_read_each_run_and_repeats_are_dropped() -> None:
    columns = Columns.checked(["lr", "lr", "opt"], ["loss"])

    assert columns.of(RUNS[0]) == {"params": {"lr": 0.3, "opt": "adam"}, "metrics": {"loss": 0.2}}
    assert columns.of(RUNS[2]) == {"params": {"lr": 0.2, "opt": None}, "metrics": {"loss": None}}


def test_too_many_columns_or_a_bad_name_is_refused() -> None:
    with pytest.raises(ConfigError, match="21 metric columns asked for: at most 20"):
        Columns.checked([], [f"m{i}" for i in range(21)])
    with pytest.raises(ConfigError, match="parameter 'a/b' is not a valid id"):
        Columns.checked(["a/b"], [])


def test_every_parameter_and_metric_name_is_offered_once() -> None:
    assert available(RUNS) == {"params": ["lr", "opt"], "metrics": ["fit.loss"]}
