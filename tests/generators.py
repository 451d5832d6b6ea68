"""Seeded test data: pipeline graphs, project sources and configs, metric series, tables.

Every generator takes a ``seed`` (or is deterministic), so a failing example
reproduces from the seed in its message. The same shapes are offered as
Hypothesis strategies (``dags()``, ``valid_configs()``), and
``fixtures.projects`` exposes them to tests as the ``generated_project`` fixture.

- Graphs: :func:`linear`, :func:`diamond`, :func:`fan_out_fan_in`,
  :func:`random_dag`, :func:`cyclic`; each a :class:`Dag` that renders itself as
  a ``process_adjlist`` text or mapping.
- Sources: :func:`pipeline_source` writes one ``@process`` per node whose
  result is a pure function of its upstream results and a parameter, and
  :func:`expected_results` computes what a correct run returns.
- Configs: :func:`valid_config`, and :data:`INVALID_CONFIGS`, one broken
  config per kind of mistake with the phrase its error must contain.
- :func:`metric_series` (a noisy decreasing loss) and :func:`tabular`
  (rows of a small classification table).
"""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

# ------------------------------------------------------------------ graphs


@dataclass(frozen=True)
class Dag:
    nodes: tuple[str, ...]
    edges: tuple[tuple[str, str], ...]

    def upstream(self, node: str) -> list[str]:
        return [a for a, b in self.edges if b == node]

    def adjlist(self) -> str:
        """Text form: every node on a line of its own, then one line per edge."""
        return "\n".join([*self.nodes, *(f"{a} {b}" for a, b in self.edges)])

    def mapping(self) -> dict[str, list[str]]:
        """Mapping form: each node to its downstream nodes."""
        return {n: [b for a, b in self.edges if a == n] for n in self.nodes}

    def descendants(self, node: str) -> set[str]:
        """Every node reachable downstream of ``node`` (not ``node`` itself)."""
        found: set[str] = set()
        frontier = [node]
        while frontier:
            current = frontier.pop()
            for a, b in self.edges:
                if a == current and b not in found:
                    found.add(b)
                    frontier.append(b)
        return found


def _names(count: int, prefix: str = "p") -> list[str]:
    return [f"{prefix}{i}" for i in range(count)]


def linear(count: int) -> Dag:
    nodes = _names(count)
    return Dag(tuple(nodes), tuple(itertools.pairwise(nodes)))


def diamond() -> Dag:
    edges = (("load", "left"), ("load", "right"), ("left", "join"), ("right", "join"))
    return Dag(("load", "left", "right", "join"), edges)


def fan_out_fan_in(width: int) -> Dag:
    middle = _names(width, "branch")
    edges = [("source", m) for m in middle] + [(m, "sink") for m in middle]
    return Dag(("source", *middle, "sink"), tuple(edges))


def random_dag(count: int, *, edge_probability: float = 0.3, seed: int = 0) -> Dag:
    """Edges only from lower to higher index (so acyclic), nodes listed in shuffled order."""
    rng = random.Random(seed)  # noqa: S311 - test data, seeded to reproduce
    nodes = _names(count)
    edges = [
        (nodes[i], nodes[j])
        for i in range(count)
        for j in range(i + 1, count)
        if rng.random() < edge_probability
    ]
    shuffled = nodes[:]
    rng.shuffle(shuffled)
    return Dag(tuple(shuffled), tuple(edges))


def cyclic(count: int) -> Dag:
    """A ring: ``p0 -> p1 -> ... -> p{count-1} -> p0``."""
    ring = linear(count)
    return Dag(ring.nodes, (*ring.edges, (ring.nodes[-1], ring.nodes[0])))


@st.composite
def dags(draw: st.DrawFn, max_nodes: int = 12) -> Dag:
    """Random DAGs of 1..max_nodes nodes, listed in any order."""
    size = draw(st.integers(min_value=1, max_value=max_nodes))
    nodes = _names(size)
    pairs = [(nodes[i], nodes[j]) for i in range(size) for j in range(i + 1, size)]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True)) if pairs else []
    return Dag(tuple(draw(st.permutations(nodes))), tuple(edges))


# ------------------------------------------------------------------ project sources

PROCESS = """
@process(name="{name}")
def {name}(ctx{args}, scale=1):
    return {weight} * scale + {total}
"""


def _weight(name: str) -> int:
    return sum(ord(c) for c in name) % 97 + 1


def pipeline_source(dag: Dag, *, weights: dict[str, int] | None = None) -> str:
    """A module with one process per node: ``weight * scale + sum(upstream results)``.

    ``weights`` replaces the weight of some processes: a change to their code only.
    """
    parts = ["from mlops import process\n"]
    for name in dag.nodes:
        upstream = sorted(dag.upstream(name))
        parts.append(
            PROCESS.format(
                name=name,
                args="".join(f", {u}" for u in upstream),
                weight=(weights or {}).get(name, _weight(name)),
                total=" + ".join(upstream) or "0",
            )
        )
    return "".join(parts)


def expected_results(dag: Dag, *, scale: int = 1) -> dict[str, int]:
    results: dict[str, int] = {}
    remaining = list(dag.nodes)
    while remaining:
        for name in list(remaining):
            upstream = dag.upstream(name)
            if all(u in results for u in upstream):
                results[name] = _weight(name) * scale + sum(results[u] for u in upstream)
                remaining.remove(name)
    return results


# ------------------------------------------------------------------ configs


def valid_config(name: str = "demo", dag: Dag | None = None, *, seed: int = 7) -> dict[str, Any]:
    graph = dag or diamond()
    return {
        "reproducibility": {"random_seed": seed, "experiment_tracking": {"backend": "local"}},
        "environment": {"system": {}},
        "model": {
            "name": name,
            "framework": "custom",
            "parameters": {"scale": 1, "pipeline": {"process_adjlist": graph.adjlist()}},
        },
    }


def _without(path: str) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def change(config: dict[str, Any]) -> None:
        target = config
        for key in parents:
            target = target[key]
        del target[last]

    return change


def _setting(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    *parents, last = path.split(".")

    def change(config: dict[str, Any]) -> None:
        target = config
        for key in parents:
            target = target.setdefault(key, {})
        target[last] = value

    return change


#: kind -> (how to break a valid config, a phrase the one-line error must contain)
INVALID_CONFIGS: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "missing model": (_without("model"), "model"),
    "unknown executor": (_setting("executor", {"type": "spark"}), "executor"),
    "negative worker count": (
        _setting("executor", {"type": "threads", "n_workers": -2}), "n_workers"),
    "seed not an integer": (_setting("reproducibility.random_seed", "seven"), "random_seed"),
    "unknown top-level key": (_setting("modle", {}), "modle"),
    "unknown tracking backend": (
        _setting("reproducibility.experiment_tracking.backend", "wandb"), "backend"),
    "unknown kv backend": (_setting("storage.kv", {"backend": "cassandra"}), "cassandra"),
    "adjlist not text or mapping": (
        _setting("model.parameters.pipeline.process_adjlist", 42), "process_adjlist"),
}  # fmt: skip


def invalid_config(kind: str, name: str = "demo") -> tuple[dict[str, Any], str]:
    """A config broken in the way ``kind`` names, and the phrase its error must contain."""
    change, phrase = INVALID_CONFIGS[kind]
    config = copy.deepcopy(valid_config(name))
    change(config)
    return config, phrase


@st.composite
def valid_configs(draw: st.DrawFn) -> dict[str, Any]:
    """Valid configs with random graphs, seeds and plain parameters."""
    config = valid_config(dag=draw(dags(max_nodes=6)), seed=draw(st.integers(0, 2**31 - 1)))
    scalars = st.one_of(
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=False, allow_infinity=False, width=32),
        st.text("abcxyz _-", max_size=8),
        st.booleans(),
    )
    extra = draw(st.dictionaries(st.sampled_from(["lr", "depth", "tag", "flag"]), scalars))
    config["model"]["parameters"].update(extra)
    return config


# ------------------------------------------------------------------ data


def metric_series(steps: int, *, seed: int = 0, start: float = 2.0) -> list[tuple[int, float]]:
    """A noisy loss that tends down: ``(step, value)`` pairs, values > 0."""
    rng = random.Random(seed)  # noqa: S311 - test data, seeded to reproduce
    value, series = start, []
    for step in range(steps):
        value = max(1e-3, value * (0.9 + rng.uniform(-0.05, 0.05)))
        series.append((step, round(value, 6)))
    return series


def tabular(rows: int, *, seed: int = 0, classes: int = 2) -> list[dict[str, Any]]:
    """Rows of ``x0, x1, x2`` features and a ``label`` that depends on them."""
    rng = random.Random(seed)  # noqa: S311 - test data, seeded to reproduce
    table = []
    for _ in range(rows):
        features = [round(rng.gauss(0, 1), 4) for _ in range(3)]
        label = int(sum(features) > 0) if classes == 2 else rng.randrange(classes)
        table.append({"x0": features[0], "x1": features[1], "x2": features[2], "label": label})
    return table


__all__ = [
    "INVALID_CONFIGS",
    "Dag",
    "cyclic",
    "dags",
    "diamond",
    "expected_results",
    "fan_out_fan_in",
    "invalid_config",
    "linear",
    "metric_series",
    "pipeline_source",
    "random_dag",
    "tabular",
    "valid_config",
    "valid_configs",
]
