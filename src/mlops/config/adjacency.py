"""Parse and check ``model.parameters.pipeline.process_adjlist``.

Two spellings are accepted:

- networkx's adjacency-list text, one line per process: ``load clean split``
  means *load feeds clean and split*; ``#`` starts a comment;
- a YAML mapping ``{process: [downstream, ...]}`` (a single name or nothing
  is fine for one or no downstream process).

Every problem is a :class:`~mlops.errors.GraphError` naming the key and, for
a cycle, the cycle itself (``train -> evaluate -> train``). The graph
algorithms are networkx's.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from mlops.config.graph import PipelineGraph
from mlops.errors import GraphError

ADJLIST_KEY = "model.parameters.pipeline.process_adjlist"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")


def parse_process_adjlist(declaration: Any, *, source: str = ADJLIST_KEY) -> PipelineGraph:
    """The graph declared by ``declaration`` (adjacency text or mapping), validated."""
    if declaration is None or (isinstance(declaration, str) and not declaration.strip()):
        raise GraphError(
            f"{source}: the pipeline is empty",
            hint="declare processes, e.g. 'load train' (load feeds train)",
        )
    if isinstance(declaration, str):
        nodes, edges = _from_text(declaration, source)
    elif isinstance(declaration, Mapping):
        nodes, edges = _from_mapping(declaration, source)
    else:
        raise GraphError(
            f"{source}: expected adjacency-list text or a mapping of process -> downstream list, "
            f"found {type(declaration).__name__}"
        )
    if not nodes:
        raise GraphError(f"{source}: the pipeline is empty", hint="declare at least one process")
    for name in nodes:
        _check_name(name, source)
    graph = PipelineGraph.from_edges(nodes, edges)
    check_acyclic(graph, source=source)
    return graph


def _from_text(text: str, source: str) -> tuple[list[str], list[tuple[str, str]]]:
    """networkx's adjacency-list format: ``a b c`` (a feeds b and c), ``#`` comments.

    Read here, as ``networkx.parse_adjlist`` reads it, without importing networkx;
    nodes keep their first-seen order, the user's order.
    """
    nodes: list[str] = []
    edges: list[tuple[str, str]] = []
    for line in text.splitlines():
        names = line.split("#", 1)[0].split()
        if not names:
            continue
        head, *targets = names
        nodes.append(head)
        for target in targets:
            nodes.append(target)
            edges.append((head, target))
    return list(dict.fromkeys(nodes)), edges


def _from_mapping(
    mapping: Mapping[Any, Any], source: str
) -> tuple[list[str], list[tuple[str, str]]]:
    nodes: list[str] = []
    edges: list[tuple[str, str]] = []
    for key, declared in mapping.items():
        name = str(key)
        nodes.append(name)
        if declared is None:
            continue
        targets = declared.split() if isinstance(declared, str) else declared
        if not isinstance(targets, Iterable) or isinstance(targets, Mapping):
            raise GraphError(
                f"{source}.{name}: expected a list of downstream processes, "
                f"found {type(targets).__name__}"
            )
        for target in targets:
            if not isinstance(target, str):
                raise GraphError(
                    f"{source}.{name}: downstream process names must be strings, found {target!r}"
                )
            edges.append((name, target))
            nodes.append(target)
    return list(dict.fromkeys(nodes)), edges


def _check_name(name: str, source: str) -> None:
    if not _NAME.match(name):
        raise GraphError(
            f"{source}: invalid process name {name!r}",
            hint="use letters, digits, '_', '-' or '.', starting with a letter or '_'",
        )


def check_acyclic(graph: PipelineGraph, *, source: str = ADJLIST_KEY) -> None:
    """Refuse self-loops and cycles, naming the loop."""
    loops = sorted(name for name in graph.nodes if name in graph.successors(name))
    if loops:
        raise GraphError(
            f"{source}: process {loops[0]!r} depends on itself",
            hint=f"remove {loops[0]!r} from its own downstream list",
        )
    cycle = _find_cycle(graph)
    if cycle is None:
        return
    path = " -> ".join([*cycle, cycle[0]])
    raise GraphError(
        f"{source}: the pipeline has a cycle: {path}",
        hint="a pipeline must be acyclic; remove one of these edges",
    )


def _find_cycle(graph: PipelineGraph) -> list[str] | None:
    """The first cycle a depth-first walk in declaration order meets, as its nodes."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in graph.nodes:
        if start in state:
            continue
        path: list[str] = [start]
        branches = [iter(graph.successors(start))]
        state[start] = 1
        while branches:
            child = next(branches[-1], None)
            if child is None:
                state[path.pop()] = 2
                branches.pop()
            elif state.get(child) == 1:
                return path[path.index(child) :]
            elif child not in state:
                state[child] = 1
                path.append(child)
                branches.append(iter(graph.successors(child)))
    return None


def check_processes(
    graph: PipelineGraph, defined: Iterable[str], *, source: str = ADJLIST_KEY
) -> list[str]:
    """Every graph node must be a defined process; returns warnings for unused definitions."""
    known = list(dict.fromkeys(defined))
    for name in graph.order:
        if name not in known:
            suggestion = difflib.get_close_matches(name, known, n=1)
            if suggestion:
                hint = f"did you mean {suggestion[0]!r}?"
            elif known:
                hint = f"defined processes: {', '.join(sorted(known))}"
            else:
                hint = "no @process functions were found in the project's src/ modules"
            raise GraphError(f"{source}: unknown process {name!r}", hint=hint)
    return [
        f"process {name!r} is defined but not in the pipeline; it will not run"
        for name in known
        if name not in graph
    ]


__all__ = ["ADJLIST_KEY", "check_acyclic", "check_processes", "parse_process_adjlist"]
