"""The pipeline graph: processes and the edges between them, immutable once parsed.

:class:`PipelineGraph` is what the engine schedules from. It is built by
:mod:`mlops.config.adjacency` and answers its few graph questions (order,
ancestors, descendants, generations) from two adjacency maps with the standard
library: every command reads the graph, and importing networkx alone costs
about a second of CPU. ``to_networkx()`` gives a ``DiGraph`` to code that wants
networkx's algorithms, importing it then.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx


@dataclass(frozen=True, eq=False)
class PipelineGraph:
    """A validated DAG of process names.

    ``order`` is a topological order that breaks ties by first appearance in
    the user's declaration, so logs and tables follow what the user wrote.
    """

    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]
    _successors: dict[str, list[str]] = field(repr=False, compare=False)
    _predecessors: dict[str, list[str]] = field(repr=False, compare=False)

    @classmethod
    def from_edges(cls, nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> PipelineGraph:
        """Build from declared nodes and edges (not validated; see ``networkx_parser``).

        Nodes keep their first-seen order (an edge's ends count as seen); a
        repeated edge counts once.
        """
        successors: dict[str, list[str]] = {name: [] for name in nodes}
        predecessors: dict[str, list[str]] = {name: [] for name in successors}
        unique: dict[tuple[str, str], None] = {}
        for source, target in edges:
            for name in (source, target):
                successors.setdefault(name, [])
                predecessors.setdefault(name, [])
            if (source, target) not in unique:
                unique[(source, target)] = None
                successors[source].append(target)
                predecessors[target].append(source)
        return cls(tuple(successors), tuple(unique), successors, predecessors)

    @cached_property
    def order(self) -> tuple[str, ...]:
        """A topological order; of the processes ready at each point, the first declared."""
        position = self.position
        waiting = {name: len(self._predecessors[name]) for name in self.nodes}
        ready = [(position[n], n) for n in self.nodes if waiting[n] == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            _, name = heapq.heappop(ready)
            order.append(name)
            for child in self._successors[name]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, (position[child], child))
        if len(order) != len(self.nodes):
            raise ValueError("the graph has a cycle")  # parsed graphs are checked before
        return tuple(order)

    def __contains__(self, name: object) -> bool:
        return name in self._successors

    def __len__(self) -> int:
        return len(self.nodes)

    @cached_property
    def position(self) -> dict[str, int]:
        """Each process's index in the declaration (ties in ``order`` follow it)."""
        return {name: i for i, name in enumerate(self.nodes)}

    @cached_property
    def _upstream(self) -> dict[str, tuple[str, ...]]:
        key = self.position.__getitem__
        return {n: tuple(sorted(self._predecessors[n], key=key)) for n in self.nodes}

    @cached_property
    def _downstream(self) -> dict[str, tuple[str, ...]]:
        key = self.position.__getitem__
        return {n: tuple(sorted(self._successors[n], key=key)) for n in self.nodes}

    def upstream(self, name: str) -> tuple[str, ...]:
        """Direct predecessors of ``name``, in declaration order."""
        return self._upstream[name]

    def downstream(self, name: str) -> tuple[str, ...]:
        return self._downstream[name]

    def successors(self, name: str) -> list[str]:
        """Direct successors in the order their edges were declared."""
        return list(self._successors[name])

    def ancestors(self, name: str) -> frozenset[str]:
        return _reachable(self._predecessors, name)

    def descendants(self, name: str) -> frozenset[str]:
        return _reachable(self._successors, name)

    def roots(self) -> tuple[str, ...]:
        return tuple(n for n in self.order if not self._predecessors[n])

    def generations(self) -> list[list[str]]:
        """Groups of processes that can run together, in order."""
        waiting = {name: len(self._predecessors[name]) for name in self.nodes}
        current = [n for n in self.nodes if waiting[n] == 0]
        generations: list[list[str]] = []
        key = self.position.__getitem__
        while current:
            generations.append(sorted(current, key=key))
            following: list[str] = []
            for name in current:
                for child in self._successors[name]:
                    waiting[child] -= 1
                    if waiting[child] == 0:
                        following.append(child)
            current = following
        return generations

    def to_networkx(self) -> nx.DiGraph[str]:
        """The graph as a networkx ``DiGraph`` (a new one: changing it changes nothing here)."""
        import networkx as nx

        graph: nx.DiGraph[str] = nx.DiGraph()
        graph.add_nodes_from(self.nodes)
        graph.add_edges_from(self.edges)
        return graph

    def as_adjacency(self) -> dict[str, list[str]]:
        """``{process: [downstream, ...]}`` for JSON (the web UI, run records)."""
        return {name: list(self.downstream(name)) for name in self.nodes}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PipelineGraph):
            return NotImplemented
        return set(self.nodes) == set(other.nodes) and set(self.edges) == set(other.edges)

    def __hash__(self) -> int:
        return hash((frozenset(self.nodes), frozenset(self.edges)))


def _reachable(neighbours: dict[str, list[str]], start: str) -> frozenset[str]:
    seen: set[str] = set()
    stack = list(neighbours[start])
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(neighbours[name])
    return frozenset(seen)


__all__ = ["PipelineGraph"]
