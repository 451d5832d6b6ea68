"""@chart registration and discovery, chart keys, and metrics reshaped from a run record."""

from __future__ import annotations

import types

import pytest

from mlops.errors import ConfigError
from mlops.reporting.kv_utils import (
    chart_key,
    check_part,
    delete_chart_records,
    list_chart_records,
    metrics_of,
    put_chart_record,
)
from mlops.reporting.registry import (
    ChartRegistry,
    ChartSpec,
    chart,
    chart_spec,
    discover_charts,
    load_entrypoint,
)
from mlops.storage.backends.memory import MemoryKVStore


def module_with(name: str, **members: object) -> types.ModuleType:
    module = types.ModuleType(name)
    for attribute, value in members.items():
        if callable(value):
            value.__module__ = name  # type: ignore[union-attr]
        setattr(module, attribute, value)
    return module


def test_the_decorator_works_bare_and_with_options() -> None:
    @chart
    def plain(ctx: object) -> None: ...

    @chart(name="series", kind="dynamic", title="Loss over time")
    def other(ctx: object) -> None: ...

    assert chart_spec(plain) == ChartSpec("plain", "static", plain, None)
    spec = chart_spec(other)
    assert spec is not None
    assert (spec.name, spec.kind, spec.label) == ("series", "dynamic", "Loss over time")
    assert ChartSpec("loss_curve", "static", plain).label == "loss curve"
    assert chart_spec(len) is None


def test_an_unknown_kind_is_refused_at_decoration() -> None:
    with pytest.raises(ValueError, match="chart kind must be one of"):
        chart(kind="animated")  # type: ignore[call-overload]


def test_discovery_finds_charts_defined_in_a_module_not_imported_ones() -> None:
    def own(ctx: object) -> None: ...

    def borrowed(ctx: object) -> None: ...

    chart(own)
    chart(borrowed)
    first = module_with("project_a", own=own)
    borrowed.__module__ = "elsewhere"
    second = module_with("project_b", borrowed=borrowed, constant=3)
    second.borrowed.__module__ = "elsewhere"

    registry = discover_charts([first, second])

    assert registry.names() == ["own"]
    assert "own" in registry
    assert len(registry) == 1


def test_two_charts_under_one_name_are_an_error_naming_both() -> None:
    def a(ctx: object) -> None: ...

    def b(ctx: object) -> None: ...

    registry = ChartRegistry([ChartSpec("x", "static", a)])
    registry.register(ChartSpec("x", "static", a))  # the same function again is fine

    with pytest.raises(ConfigError, match=r"chart 'x' is defined twice: .*\.a and .*\.b"):
        registry.register(ChartSpec("x", "static", b))


def test_an_unknown_chart_lists_the_known_ones() -> None:
    registry = ChartRegistry([ChartSpec("loss", "static", print)])

    with pytest.raises(ConfigError, match=r"no chart named 'acc'.*\(charts: loss\)"):
        registry.get("acc")


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no_colon", "expected 'module:function'"),
        ("json:nothing_here", "cannot import json:nothing_here"),
        ("json.decoder:__doc__", "is not callable"),
    ],
    ids=["no-colon", "missing-attribute", "not-callable"],
)
def test_bad_entrypoints_name_the_chart(reference: str, message: str) -> None:
    with pytest.raises(ConfigError, match=rf"reporting.charts.c.entrypoint: .*{message}"):
        load_entrypoint(reference, "static", "c")


def test_an_entrypoint_takes_the_configured_kind() -> None:
    spec = load_entrypoint("json:dumps", "dynamic", "dumped")

    assert (spec.name, spec.kind) == ("dumped", "dynamic")


# ------------------------------------------------------------------ records


@pytest.mark.parametrize(
    "value",
    ["..", "../x", "a/b", "", ".hidden", "a" * 129, "x..y", "sp ace", "%2e%2e"],
    ids=["dotdot", "traversal", "slash", "empty", "dot-first", "long", "inner-dotdot",
         "space", "encoded"],
)  # fmt: skip
def test_ids_that_could_escape_a_key_are_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="is not a valid id"):
        check_part(value, "run")


def test_chart_records_are_kept_per_run() -> None:
    kv = MemoryKVStore("proj")
    put_chart_record(kv, "r1", {"name": "b", "status": "rendered"})
    put_chart_record(kv, "r1", {"name": "a", "status": "failed"})
    put_chart_record(kv, "r2", {"name": "a", "status": "rendered"})

    assert chart_key("r1", "a") == "charts/r1/a"
    assert [r["name"] for r in list_chart_records(kv, "r1")] == ["a", "b"]
    assert delete_chart_records(kv, "r1") == 2
    assert list_chart_records(kv, "r1") == []
    assert list_chart_records(kv, "r2") == [{"name": "a", "status": "rendered"}]


def test_metrics_are_grouped_by_process_and_name_in_step_order() -> None:
    record = {
        "processes": {
            "train": {
                "metrics": [
                    {"name": "loss", "value": 0.5, "step": 2},
                    {"name": "loss", "value": 0.9, "step": 0},
                    {"name": "acc", "value": 0.7, "step": None},
                ]
            },
            "idle": {"metrics": []},
        }
    }

    assert metrics_of(record) == {
        "train": {
            "loss": [{"step": 0, "value": 0.9}, {"step": 2, "value": 0.5}],
            "acc": [{"step": None, "value": 0.7}],
        }
    }
