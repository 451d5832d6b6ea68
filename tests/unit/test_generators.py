"""The test data generators themselves, and the properties they make cheap to state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings

import generators as gen
from mlops.config.adjacency import parse_process_adjlist
from mlops.config.schema import (
    ProjectConfig,
    dump_yaml,
    load_project_config,
    validate_project_config,
)
from mlops.errors import ConfigError, GraphError


@pytest.mark.parametrize(
    ("dag", "nodes", "edges"),
    [
        (gen.linear(4), 4, 3),
        (gen.diamond(), 4, 4),
        (gen.fan_out_fan_in(5), 7, 10),
        (gen.random_dag(10, seed=3), 10, None),
    ],
    ids=["linear", "diamond", "fan", "random"],
)
def test_shapes_parse_to_what_they_declare(dag: gen.Dag, nodes: int, edges: int | None) -> None:
    for declaration in (dag.adjlist(), dag.mapping()):
        graph = parse_process_adjlist(declaration)
        assert len(graph.nodes) == nodes
        assert set(graph.edges) == set(dag.edges)
    if edges is not None:
        assert len(dag.edges) == edges


def test_random_dags_reproduce_from_their_seed() -> None:
    assert gen.random_dag(12, seed=5) == gen.random_dag(12, seed=5)
    assert gen.random_dag(12, seed=5) != gen.random_dag(12, seed=6)
    assert gen.metric_series(20, seed=1) == gen.metric_series(20, seed=1)
    assert gen.tabular(30, seed=2) == gen.tabular(30, seed=2)


@pytest.mark.parametrize("size", [1, 2, 5], ids=["self", "pair", "ring"])
def test_cycles_are_rejected(size: int) -> None:
    with pytest.raises(GraphError, match=r"cycle|depends on itself"):
        parse_process_adjlist(gen.cyclic(size).adjlist())


def test_expected_results_follow_the_graph() -> None:
    results = gen.expected_results(gen.diamond(), scale=2)
    weight = {n: results[n] - sum(results[u] for u in gen.diamond().upstream(n)) for n in results}
    assert results["join"] == weight["join"] + results["left"] + results["right"]
    assert all(w % 2 == 0 for w in weight.values())  # every weight is scaled


def test_series_and_tables_have_their_shape() -> None:
    series = gen.metric_series(50, seed=4)
    assert [step for step, _ in series] == list(range(50))
    assert series[-1][1] < series[0][1]
    assert all(value > 0 for _, value in series)
    table = gen.tabular(100, seed=4)
    assert set(table[0]) == {"x0", "x1", "x2", "label"}
    assert {row["label"] for row in table} == {0, 1}


@pytest.mark.parametrize("kind", sorted(gen.INVALID_CONFIGS), ids=str)
def test_every_kind_of_invalid_config_is_one_clear_error(kind: str) -> None:
    config, phrase = gen.invalid_config(kind)
    with pytest.raises(ConfigError, match=phrase) as raised:
        validate_project_config(config, "project_config.yaml")
    assert "\n" not in raised.value.one_line()


def test_the_valid_config_is_valid() -> None:
    validate_project_config(gen.valid_config(), "project_config.yaml")


# ------------------------------------------------------------------ properties


@given(config=gen.valid_configs())
@settings(max_examples=40)
def test_config_dump_then_load_is_the_identity(
    config: dict[str, Any], tmp_path_factory: Any
) -> None:
    loaded = validate_project_config(config, "project_config.yaml")
    path = Path(tmp_path_factory.mktemp("dump")) / "project_config.yaml"
    path.write_text(dump_yaml(loaded.model_dump(mode="json", exclude_none=True)))
    assert load_project_config(path) == loaded
    again = yaml.safe_load(path.read_text())
    assert ProjectConfig.model_validate(again) == loaded
