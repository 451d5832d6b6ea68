"""The pipeline graph: processes and the edges between them, immutable once parsed.

:class:`PipelineGraph` is what the engine schedules from. It is built by
:mod:`mlops.core.networkx_parser` and keeps a networkx ``DiGraph`` inside for
every graph question (order, ancestors, descendants); nothing here walks the
graph by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

import networkx as nx


class ProcessStatus(StrEnum):
    """What happened to one process in one run."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"  # ran and finished
    CACHED = "cached"  # reused from the cache, not run
    FAILED = "failed"
    SKIPPED = "skipped"  # an upstream failed, a condition was false, or not selected

    @property
    def finished_ok(self) -> bool:
        return self in (ProcessStatus.COMPLETED, ProcessStatus.CACHED)


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True, eq=False)
class PipelineGraph:
    """A validated DAG of process names.

    ``order`` is a topological order that breaks ties by first appearance in
    the user's declaration, so logs and tables follow what the user wrote.
    """

    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    _graph: nx.DiGraph[str] = field(repr=False, compare=False)

    @classmethod
    def from_edges(cls, nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> PipelineGraph:
        """Build from declared nodes and edges (not validated; see ``networkx_parser``)."""
        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from(nodes)
        graph.add_edges_from(edges)
        return cls(tuple(graph.nodes), tuple(graph.edges), graph)

    @cached_property
    def order(self) -> tuple[str, ...]:
        return tuple(
            nx.lexicographical_topological_sort(self._graph, key=self.position.__getitem__)
        )

    def __contains__(self, name: object) -> bool:
        return name in self._graph

    def __len__(self) -> int:
        return len(self.nodes)

    @cached_property
    def position(self) -> dict[str, int]:
        """Each process's index in the declaration (ties in ``order`` follow it)."""
        return {name: i for i, name in enumerate(self.nodes)}

    @cached_property
    def _upstream(self) -> dict[str, tuple[str, ...]]:
        key = self.position.__getitem__
        return {n: tuple(sorted(self._graph.predecessors(n), key=key)) for n in self.nodes}

    @cached_property
    def _downstream(self) -> dict[str, tuple[str, ...]]:
        key = self.position.__getitem__
        return {n: tuple(sorted(self._graph.successors(n), key=key)) for n in self.nodes}

    def upstream(self, name: str) -> tuple[str, ...]:
        """Direct predecessors of ``name``, in declaration order."""
        return self._upstream[name]

    def downstream(self, name: str) -> tuple[str, ...]:
        return self._downstream[name]

    def ancestors(self, name: str) -> frozenset[str]:
        return frozenset(nx.ancestors(self._graph, name))

    def descendants(self, name: str) -> frozenset[str]:
        return frozenset(nx.descendants(self._graph, name))

    def roots(self) -> tuple[str, ...]:
        return tuple(n for n in self.order if self._graph.in_degree(n) == 0)

    def generations(self) -> list[list[str]]:
        """Groups of processes that can run together, in order."""
        key = self.position.__getitem__
        return [sorted(g, key=key) for g in nx.topological_generations(self._graph)]

    def to_networkx(self) -> nx.DiGraph[str]:
        """A copy, so callers cannot change this graph."""
        return self._graph.copy()

    def as_adjacency(self) -> dict[str, list[str]]:
        """``{process: [downstream, ...]}`` for JSON (the web UI, run records)."""
        return {name: list(self.downstream(name)) for name in self.nodes}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PipelineGraph):
            return NotImplemented
        return set(self.nodes) == set(other.nodes) and set(self.edges) == set(other.edges)

    def __hash__(self) -> int:
        return hash((frozenset(self.nodes), frozenset(self.edges)))


__all__ = ["PipelineGraph", "ProcessStatus", "RunStatus"]
