"""Parsing ``process_adjlist`` (text and mapping) and checking it."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import given
from hypothesis import strategies as st

import generators as gen
from mlops.config.adjacency import check_processes, parse_process_adjlist
from mlops.config.graph import PipelineGraph
from mlops.errors import GraphError


@pytest.mark.parametrize(
    ("declaration", "edges"),
    [
        ("a", set()),
        ("a b\nb c", {("a", "b"), ("b", "c")}),
        ("a b c\nb d\nc d", {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")}),
        ("# the pipeline\na b  # a feeds b\n\n", {("a", "b")}),
        (
            {"a": ["b", "c"], "b": "d", "c": ["d"], "d": None},
            {("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")},
        ),
        ({"a": "b c"}, {("a", "b"), ("a", "c")}),
    ],
    ids=["single", "linear", "diamond", "comments", "mapping", "mapping-string"],
)
def test_parse_accepts_text_and_mapping(declaration: object, edges: set[tuple[str, str]]) -> None:
    graph = parse_process_adjlist(declaration)
    assert set(graph.edges) == edges
    assert graph.order[0] == "a"


def test_order_follows_declaration_for_ties() -> None:
    graph = parse_process_adjlist("load zeta alpha\nzeta report\nalpha report")
    assert graph.order == ("load", "zeta", "alpha", "report")
    assert graph.upstream("report") == ("zeta", "alpha")
    assert graph.downstream("load") == ("zeta", "alpha")
    assert graph.descendants("zeta") == {"report"}
    assert graph.ancestors("report") == {"load", "zeta", "alpha"}
    assert graph.roots() == ("load",)
    assert graph.generations() == [["load"], ["zeta", "alpha"], ["report"]]
    assert graph.as_adjacency() == {
        "load": ["zeta", "alpha"],
        "zeta": ["report"],
        "alpha": ["report"],
        "report": [],
    }


def test_graphs_compare_by_content() -> None:
    one = parse_process_adjlist("a b\na c")
    other = parse_process_adjlist({"a": ["c", "b"]})
    assert one == other
    assert hash(one) == hash(other)
    assert one != parse_process_adjlist("a b")
    assert "a" in one
    assert "z" not in one
    assert len(one) == 3
    copy = one.to_networkx()
    copy.add_edge("c", "a")
    assert ("c", "a") not in one.edges


EMPTY_HINT = "declare processes, e.g. 'load train' (load feeds train)"
NAME_HINT = "use letters, digits, '_', '-' or '.', starting with a letter or '_'"


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("", f"the pipeline is empty ({EMPTY_HINT})"),
        (None, f"the pipeline is empty ({EMPTY_HINT})"),
        ("   \n# only a comment\n", "the pipeline is empty (declare at least one process)"),
        ({}, "the pipeline is empty (declare at least one process)"),
        ("a a", "process 'a' depends on itself (remove 'a' from its own downstream list)"),
        ("a b\nb c\nc a", ("the pipeline has a cycle: a -> b -> c -> a "
                           "(a pipeline must be acyclic; remove one of these edges)")),
        ({"a": {"b": 1}}, ".a: expected a list of downstream processes, found dict"),
        ({"a": [1]}, ".a: downstream process names must be strings, found 1"),
        (42, "expected adjacency-list text or a mapping of process -> downstream list, found int"),
        ("a b/c", f"invalid process name 'b/c' ({NAME_HINT})"),
    ],
    ids=["empty", "none", "comment-only", "empty-mapping", "self-loop", "cycle", "nested-mapping",
         "non-string", "wrong-type", "bad-name"],
)  # fmt: skip
def test_invalid_graphs_are_one_exact_line_naming_the_source(
    declaration: object, message: str
) -> None:
    with pytest.raises(GraphError) as caught:
        parse_process_adjlist(declaration, source="p.yaml: pipeline")
    separator = "" if message.startswith(".") else ": "
    assert caught.value.one_line() == f"p.yaml: pipeline{separator}{message}"
    with pytest.raises(GraphError, match=r"^model\.parameters\.pipeline\.process_adjlist"):
        parse_process_adjlist(declaration)  # the config key is the default source


def test_a_process_without_downstream_does_not_end_the_mapping() -> None:
    graph = parse_process_adjlist({"a": None, "b": ["c"], "c": ""})
    assert list(graph.edges) == [("b", "c")]
    assert list(graph.order) == ["a", "b", "c"]


def test_cycle_message_prints_the_cycle_path() -> None:
    with pytest.raises(GraphError) as caught:
        parse_process_adjlist("load train\ntrain evaluate\nevaluate train")
    assert "train -> evaluate -> train" in caught.value.one_line()


def test_unknown_process_suggests_the_closest_name() -> None:
    graph = parse_process_adjlist("load trian")
    with pytest.raises(GraphError, match=r"unknown process 'trian'.*did you mean 'train'"):
        check_processes(graph, ["load", "train"])


def test_unknown_process_without_close_match_lists_known_ones() -> None:
    graph = parse_process_adjlist("load xyz")
    with pytest.raises(GraphError, match="defined processes: load, train"):
        check_processes(graph, ["train", "load"])
    with pytest.raises(GraphError) as caught:
        check_processes(graph, [])
    assert caught.value.one_line() == (
        "model.parameters.pipeline.process_adjlist: unknown process 'load' "
        "(no @process functions were found in the project's src/ modules)"
    )


def test_defined_but_unused_processes_are_warnings() -> None:
    graph = parse_process_adjlist("load train")
    notes = check_processes(graph, ["load", "train", "extra"])
    assert notes == ["process 'extra' is defined but not in the pipeline; it will not run"]


@given(gen.dags())
def test_order_is_a_topological_order_of_the_networkx_reference(dag: gen.Dag) -> None:
    nodes, edges = dag.nodes, dag.edges
    graph = parse_process_adjlist(dag.adjlist())
    reference: nx.DiGraph[str] = nx.DiGraph(edges)
    reference.add_nodes_from(nodes)
    assert set(graph.nodes) == set(reference.nodes)
    assert set(graph.edges) == set(reference.edges)
    position = {name: i for i, name in enumerate(graph.order)}
    assert all(position[a] < position[b] for a, b in reference.edges)
    assert nx.is_directed_acyclic_graph(graph.to_networkx())


@given(gen.dags(), st.data())
def test_every_back_edge_is_rejected_as_a_cycle(dag: gen.Dag, data: st.DataObject) -> None:
    edges = dag.edges
    if not edges:
        return
    source, target = data.draw(st.sampled_from(edges))
    text = "\n".join([*(f"{a} {b}" for a, b in edges), f"{target} {source}"])
    with pytest.raises(GraphError, match="cycle"):
        parse_process_adjlist(text)


def test_from_edges_keeps_isolated_nodes() -> None:
    graph = PipelineGraph.from_edges(["a", "b"], [])
    assert graph.order == ("a", "b")
    assert graph.edges == ()
