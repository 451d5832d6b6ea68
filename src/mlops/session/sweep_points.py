"""The points of a sweep: the values of its parameters, point by point.

``grid`` is every combination, in the order the parameters are declared;
``random`` draws ``max_runs`` points from a generator seeded with the sweep's
``seed`` (else the project's random seed), so the same sweep draws the same
points; ``optuna`` asks Optuna's sampler, a batch of ``parallel`` points at a
time, and tells it each point's metric before the next batch.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops.config.sweeps import MAX_POINTS, SweepConfig
from mlops.errors import ConfigError, EnvSetupError


@dataclass(frozen=True)
class Point:
    """One point of a sweep: its place in the sweep and the value of each swept key."""

    index: int
    values: Mapping[str, Any]
    trial: Any = field(default=None, compare=False)  # Optuna's, for an optuna sweep


def grid_points(spec: SweepConfig, name: str) -> list[Point]:
    """Every combination of the parameters' values (refused past ``max_runs``)."""
    keys = list(spec.parameters)
    axes = [spec.parameters[key].grid(key) for key in keys]
    count = 1
    for axis in axes:
        count *= len(axis)
    limit = spec.max_runs or MAX_POINTS
    if count > limit:
        raise ConfigError(
            f"sweep {name}: the grid has {count:,} points, more than max_runs ({limit:,})",
            hint="raise max_runs, or give fewer values",
        )
    return [
        Point(index, dict(zip(keys, combination, strict=True)))
        for index, combination in enumerate(itertools.product(*axes))
    ]


def random_points(spec: SweepConfig, seed: int | None) -> list[Point]:
    """``max_runs`` points drawn from the spaces; a point drawn twice is drawn again (a
    small space may give fewer points than asked)."""
    rng = random.Random(spec.seed if spec.seed is not None else seed)  # noqa: S311 - a seeded draw
    points: list[Point] = []
    seen: set[str] = set()
    for _ in range(spec.draws * 20):
        if len(points) == spec.draws:
            break
        values = {key: space.draw(rng) for key, space in spec.parameters.items()}
        fingerprint = json.dumps(values, sort_keys=True, default=repr)
        if fingerprint not in seen:
            seen.add(fingerprint)
            points.append(Point(len(points), values))
    return points


class OptunaSearch:
    """Points asked of an Optuna study, batch by batch, told their metric in return."""

    def __init__(self, spec: SweepConfig, seed: int | None) -> None:
        try:
            import optuna
        except ModuleNotFoundError as exc:
            raise EnvSetupError(
                "an optuna sweep needs the Python package 'optuna', which is not installed",
                hint="pip install 'mlops[optuna]'",
            ) from exc
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=spec.seed if spec.seed is not None else seed)
        self.study = optuna.create_study(direction=spec.goal, sampler=sampler)
        self.spec = spec
        self._asked = 0

    def batches(self) -> Iterator[list[Point]]:
        """Batches of at most ``parallel`` new points, until ``max_runs`` were asked."""
        while self._asked < self.spec.draws:
            size = min(self.spec.parallel, self.spec.draws - self._asked)
            batch = []
            for _ in range(size):
                trial = self.study.ask()
                values = {
                    key: space.suggest(trial, key) for key, space in self.spec.parameters.items()
                }
                batch.append(Point(self._asked, values, trial))
                self._asked += 1
            yield batch

    def tell(self, point: Point, metric: float | None) -> None:
        """The point's metric (None: it failed, or gave no metric)."""
        import optuna

        if metric is None:
            self.study.tell(point.trial, state=optuna.trial.TrialState.FAIL)
        else:
            self.study.tell(point.trial, metric)


__all__ = ["OptunaSearch", "Point", "grid_points", "random_points"]
