"""Finding, comparing and deleting past runs in a KV store."""

from __future__ import annotations

from typing import Any

import pytest

from mlops.errors import ConfigError
from mlops.storage.backends.memory import MemoryKVStore
from mlops.tracking.run_history import (
    compare,
    delete_run,
    history,
    param_names,
    param_value,
    resolve_run,
)


def stored(kv: MemoryKVStore, run_id: str, **summary: Any) -> None:
    kv.set(f"runs/{run_id}", {"run_id": run_id, "started_at": run_id, **summary})


@pytest.fixture
def kv() -> MemoryKVStore:
    store = MemoryKVStore("p")
    for run_id in ("20260101T000000-aaaaaa", "20260102T000000-bbbbbb", "20260102T000000-bbcccc"):
        stored(store, run_id, status="completed", counts={"completed": 2, "cached": 1})
    return store


@pytest.mark.parametrize(
    ("name", "run_id"),
    [("latest", "20260102T000000-bbcccc"), ("previous", "20260102T000000-bbbbbb"),
     ("20260101", "20260101T000000-aaaaaa"), ("20260102T000000-bbbbbb", "20260102T000000-bbbbbb")],
    ids=["latest", "previous", "unique-prefix", "whole-id"],
)  # fmt: skip
def test_runs_are_named_by_id_prefix_or_position(kv: MemoryKVStore, name: str, run_id: str) -> None:
    assert resolve_run(kv, name, "p") == run_id


@pytest.mark.parametrize(
    ("name", "message"),
    [("20260102", "run '20260102' of p is ambiguous: 2 runs start with it"),
     ("nope", "project p has no run 'nope'")],
    ids=["ambiguous", "unknown"],
)  # fmt: skip
def test_a_name_that_is_not_one_run_is_one_line(kv: MemoryKVStore, name: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_run(kv, name, "p")
    assert caught.value.one_line().startswith(message)


def test_previous_needs_two_runs() -> None:
    kv = MemoryKVStore("p")
    stored(kv, "20260101T000000-aaaaaa")
    with pytest.raises(ConfigError, match="there is no previous run"):
        resolve_run(kv, "previous", "p")


def test_history_is_newest_first_with_counts_and_chosen_metrics(kv: MemoryKVStore) -> None:
    stored(kv, "20260103T000000-dddddd", status="failed", metrics={"fit.mse": 0.5},
           counts={"completed": 1, "failed": 1})  # fmt: skip
    rows = history(kv, ["fit.mse"])
    assert [r["run_id"][-6:] for r in rows] == ["dddddd", "bbcccc", "bbbbbb", "aaaaaa"]
    assert (rows[0]["ran"], rows[0]["reused"], rows[0]["failed"]) == (1, 0, 1)
    assert rows[0]["metrics"] == {"fit.mse": 0.5}
    assert rows[1]["metrics"] == {"fit.mse": None}


SWEPT = {
    "params": {"alpha": 2, "opt": {"m": 1}, "columns": ["a", "b"]},
    "overrides": {"model.parameters.alpha": 2, "pipeline.processes.fit.params.lr": 0.1},
}


@pytest.mark.parametrize(
    ("key", "value"),
    [("alpha", 2), ("model.parameters.alpha", 2), ("opt.m", 1), ("model.parameters.opt.m", 1),
     ("columns", ["a", "b"]), ("pipeline.processes.fit.params.lr", 0.1), ("beta", None),
     ("opt", None), ("model.parameters.beta", None)],
    ids=["by-name", "by-config-key", "nested", "nested-config-key", "list", "other-override",
         "unknown", "a-group-is-no-parameter", "unknown-config-key"],
)  # fmt: skip
def test_a_parameter_is_read_by_its_name_or_its_config_key(key: str, value: Any) -> None:
    assert param_value(SWEPT, key) == value


def test_parameter_names_are_the_model_parameters_then_the_other_overrides() -> None:
    assert param_names(SWEPT) == ["alpha", "opt.m", "columns", "pipeline.processes.fit.params.lr"]
    assert param_names({}) == []


def test_compare_marks_what_differs_and_what_one_run_lacks() -> None:
    first = {
        "run_id": "a",
        "params": {"lr": 0.1, "opt": {"m": 1}},
        "processes": {"fit": {"params": {"lr": 0.1}}},
        "metrics": {"fit.loss": 1.0},
    }
    second = {"run_id": "b", "params": {"lr": 0.2, "opt": {"m": 1}},
              "processes": {"fit": {"params": {"lr": 0.2}}, "new": {"params": {"k": 1}}},
              "metrics": {"fit.loss": 1.0, "new.acc": 0.9}}  # fmt: skip
    rows = compare([first, second]).rows
    assert rows["params"] == [
        ("fit.lr", (0.1, 0.2), True),
        ("new.k", (None, 1), True),
        ("run.lr", (0.1, 0.2), True),
        ("run.opt.m", (1, 1), False),
    ]
    assert rows["metrics"] == [("fit.loss", (1.0, 1.0), False), ("new.acc", (None, 0.9), True)]


def test_delete_removes_the_run_and_its_tracking_but_nothing_else(kv: MemoryKVStore) -> None:
    run_id = "20260101T000000-aaaaaa"
    kv.set(f"runs/{run_id}/processes/fit", {"status": "completed"})
    kv.set(f"tracking/runs/{run_id}", {"status": "finished"})
    kv.set(f"tracking/runs/{run_id}/metrics/x/1", {"value": 1})
    kv.set("cache/entries/k", {"key": "k"})
    assert delete_run(kv, run_id) == 4
    assert [r["run_id"] for r in history(kv)] == [
        "20260102T000000-bbcccc",
        "20260102T000000-bbbbbb",
    ]
    assert kv.keys("tracking/") == []
    assert kv.get("cache/entries/k") == {"key": "k"}


@pytest.mark.parametrize(
    ("name", "message"),
    [("score",
      "metric 'score' of p is ambiguous: fit.score, test.score (name it with its process)"),
     ("r2", "no run of p has a metric 'r2' (metrics: fit.loss, fit.score, test.score)")],
    ids=["ambiguous", "unknown"],
)  # fmt: skip
def test_a_metric_name_that_is_not_one_metric_is_one_line(name: str, message: str) -> None:
    kv = MemoryKVStore("p")
    stored(kv, "20260101T000000-aaaaaa", metrics={"fit.score": 1.0, "fit.loss": 0.5})
    stored(kv, "20260102T000000-bbbbbb", metrics={"test.score": 0.9})
    with pytest.raises(ConfigError) as caught:
        history(kv, [name], "p")
    assert caught.value.one_line() == message
    assert history(kv, ["loss"], "p")[1]["metrics"] == {"loss": 0.5}
