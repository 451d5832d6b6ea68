"""``sweeps:``: named searches over a project's parameters.

A sweep names the parameters it varies by dotted key (as ``--set`` takes
them), each with the values it takes: a list (``values``, or ``choice`` for a
categorical one), or a range (``low``/``high``, with ``step`` for a grid,
``log`` for a log scale, ``type: int`` for whole numbers). Its ``method``
says how points are chosen: every combination (``grid``), draws seeded from
the project's random seed (``random``), or Optuna's sampler (``optuna``),
asked ``parallel`` points at a time. ``metric`` and ``goal`` rank the points
(and guide Optuna).

```yaml
sweeps:
  tune:
    method: grid
    metric: evaluate.r2
    goal: maximize
    parallel: 2
    parameters:
      model.parameters.alpha: {values: [0.1, 1.0, 10.0]}
      model.parameters.depth: {low: 2, high: 8, step: 2}
```
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mlops.config.errors import config_error
from mlops.config.yaml_files import parse_scalar, plain_data
from mlops.errors import ConfigError

#: A grid or a draw larger than this is refused however ``max_runs`` is set: every point
#: is a run with its records.
MAX_POINTS = 10_000
#: Points drawn by ``random`` and ``optuna`` when ``max_runs`` is not given.
DEFAULT_DRAWS = 10


class ParameterSpace(BaseModel):
    """The values one swept parameter takes."""

    model_config = ConfigDict(extra="forbid")

    values: list[Any] | None = None
    choice: list[Any] | None = None
    low: float | None = None
    high: float | None = None
    step: float | None = Field(default=None, gt=0)
    log: bool = False
    type: Literal["int", "float"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ParameterSpace:
        listed = [k for k in ("values", "choice") if getattr(self, k) is not None]
        ranged = self.low is not None or self.high is not None
        if len(listed) + ranged != 1:
            raise ValueError("give exactly one of values, choice, or low and high")
        for key in listed:
            if not getattr(self, key):
                raise ValueError(f"{key} is empty")
        if ranged:
            if self.low is None or self.high is None:
                raise ValueError("a range needs both low and high")
            if self.low >= self.high:
                raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
            if self.log and self.low <= 0:
                raise ValueError(f"a log range must start above 0, found low {self.low:g}")
            if self.log and self.step is not None:
                raise ValueError("a range is on a log scale or in steps, not both")
        elif self.step is not None or self.log or self.type is not None:
            raise ValueError("step, log and type belong to a range (low, high)")
        return self

    @property
    def listed(self) -> list[Any] | None:
        return self.values if self.values is not None else self.choice

    @property
    def whole(self) -> bool:
        """Whole numbers: ``type: int``, or a range whose bounds and step are integers."""
        if self.type is not None:
            return self.type == "int"
        bounds = [self.low, self.high, self.step]
        return all(b is None or float(b).is_integer() for b in bounds)

    def grid(self, key: str) -> list[Any]:
        """Every value, in order (a range needs its ``step``)."""
        if self.listed is not None:
            return list(self.listed)
        low, high = float(self.low or 0), float(self.high or 0)
        if self.step is None:
            raise ConfigError(
                f"sweep parameter {key}: a grid needs the range's step (or values)",
                hint=f"add step: to {key}, list values:, or use method random or optuna",
            )
        count = math.floor((high - low) / self.step + 1e-9) + 1
        if count > MAX_POINTS:
            raise ConfigError(f"sweep parameter {key}: {count:,} values in the range")
        return [self._typed(low + i * self.step) for i in range(count)]

    def draw(self, rng: random.Random) -> Any:
        """One value drawn from the space."""
        if self.listed is not None:
            return rng.choice(self.listed)
        low, high = float(self.low or 0), float(self.high or 0)
        if self.step is not None:
            return self._typed(low + self.step * rng.randint(0, int((high - low) // self.step)))
        if self.log:
            return self._typed(math.exp(rng.uniform(math.log(low), math.log(high))))
        if self.whole:
            return rng.randint(int(low), int(high))
        return rng.uniform(low, high)

    def suggest(self, trial: Any, key: str) -> Any:
        """The value Optuna's ``trial`` suggests for this space."""
        if self.listed is not None:
            return trial.suggest_categorical(key, self.listed)
        low, high = float(self.low or 0), float(self.high or 0)
        if self.whole:
            step = int(self.step or 1)
            return trial.suggest_int(key, int(low), int(high), step=step, log=self.log)
        return trial.suggest_float(key, low, high, step=self.step, log=self.log)

    def _typed(self, value: float) -> int | float:
        return round(value) if self.whole else round(value, 12)


class SweepConfig(BaseModel):
    """One named sweep of ``sweeps:`` (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["grid", "random", "optuna"] = "grid"
    parameters: dict[str, ParameterSpace] = Field(min_length=1)
    metric: str | None = None
    goal: Literal["minimize", "maximize"] = "minimize"
    parallel: int = Field(default=1, ge=1)
    max_runs: int | None = Field(default=None, ge=1, le=MAX_POINTS)
    seed: int | None = None

    @model_validator(mode="after")
    def _searched_by_a_metric(self) -> SweepConfig:
        if self.method == "optuna" and self.metric is None:
            raise ValueError("an optuna sweep searches by a metric: set metric")
        for key in self.parameters:
            if not key.strip() or any(not part.strip() for part in key.split(".")):
                raise ValueError(f"{key!r} is not a dotted config key")
            if key.split(".", 1)[0] == "environment":
                raise ValueError(
                    f"{key}: a sweep runs in one environment; sweep model parameters instead"
                )
        return self

    @property
    def draws(self) -> int:
        """How many points ``random`` and ``optuna`` ask for."""
        return self.max_runs or DEFAULT_DRAWS


def sweep_spec(
    sweeps: Mapping[str, SweepConfig],
    name: str | None,
    *,
    grids: Sequence[str] = (),
    spaces: Sequence[str] = (),
    settings: Mapping[str, Any] | None = None,
) -> SweepConfig:
    """The sweep to run: ``sweeps.<name>`` of the config (or none: one given on the command
    line), with ``--grid KEY=V1,V2``, ``--param KEY=SPACE`` and the settings given there
    (method, metric, goal, parallel, max_runs, seed) replacing its own."""
    if name is not None and name not in sweeps:
        known = ", ".join(sweeps) or "none in the config"
        raise ConfigError(f"no sweep {name!r}", hint=f"sweeps: {known}")
    data: dict[str, Any] = sweeps[name].model_dump(exclude_unset=True) if name else {}
    parameters: dict[str, Any] = dict(data.get("parameters") or {})
    for text in grids:
        key, values = _assignment(text, "--grid")
        listed = parse_scalar(f"[{values}]", f"--grid {key}")
        parameters[key] = {"values": listed}
    for text in spaces:
        key, space = _assignment(text, "--param")
        parsed = parse_scalar(space, f"--param {key}")
        if not isinstance(parsed, Mapping):
            raise ConfigError(
                f"--param {key}: expected a space such as {{low: 0.001, high: 0.1, log: true}}",
                hint="or {values: [a, b]}, {choice: [a, b]}",
            )
        parameters[key] = dict(parsed)
    if not parameters:
        raise ConfigError(
            "a sweep needs parameters to vary",
            hint="name a sweep of the config's sweeps:, or give --grid KEY=V1,V2",
        )
    data.update({k: v for k, v in (settings or {}).items() if v is not None})
    data["parameters"] = parameters
    source = f"sweeps.{name}" if name else "the sweep given on the command line"
    try:
        return SweepConfig.model_validate(plain_data(data))
    except ValidationError as exc:
        raise config_error(exc, data, source, root=SweepConfig) from None


def _assignment(text: str, option: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip() or not value.strip():
        raise ConfigError(
            f"{option} {text!r}: expected KEY=VALUES",
            hint="for example --grid model.parameters.alpha=0.1,1,10",
        )
    return key.strip(), value


__all__ = ["DEFAULT_DRAWS", "MAX_POINTS", "ParameterSpace", "SweepConfig", "sweep_spec"]
