"""How a process or a step runs: retries, timeout, loops, caching (decorators, config).

The decorator's arguments are the defaults; ``pipeline.processes.<name>`` in
the project config overrides them key by key (that section is validated by
:mod:`mlops.config.pipeline` when the config loads; the checks here
hold for the decorator's own values).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from mlops.errors import ConfigError


@dataclass(frozen=True)
class RunOptions:
    """The options ``pipeline.processes.<name>`` sets, each replacing the decorator's; None
    leaves the decorator's value. What the scheduler sends a worker with each task: plain
    data, so a worker needs no config schema to read it."""

    retries: int | None = None
    retry_backoff: float | None = None
    timeout: float | None = None
    iterations: int | None = None
    max_iterations: int | None = None
    cache: bool | None = None

    def set(self) -> dict[str, Any]:
        """The options given, by name."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


@dataclass(frozen=True)
class ProcessOptions:
    """How a process runs; set on ``@process`` and overridable per project in the config."""

    name: str
    retries: int = 0
    retry_backoff: float = 1.0  # seconds before the first retry, doubled each time
    timeout: float | None = None  # seconds per attempt
    iterations: int | None = None  # run this many times (a loop); None: once
    max_iterations: int = 100  # the bound for an ``until`` loop
    cache: bool = True
    condition: Callable[..., bool] | None = field(default=None, compare=False)
    until: Callable[..., bool] | None = field(default=None, compare=False)

    CONFIGURABLE = ("retries", "retry_backoff", "timeout", "iterations", "max_iterations", "cache")

    def __post_init__(self) -> None:
        _check_number(self.name, "retries", self.retries, minimum=0, integer=True)
        _check_number(self.name, "retry_backoff", self.retry_backoff, minimum=0)
        if self.timeout is not None:
            _check_number(self.name, "timeout", self.timeout, minimum=0, exclusive=True)
        if self.iterations is not None:
            _check_number(self.name, "iterations", self.iterations, minimum=1, integer=True)
        _check_number(self.name, "max_iterations", self.max_iterations, minimum=1, integer=True)
        if not isinstance(self.cache, bool):
            raise ConfigError(f"process {self.name!r}: cache must be true or false")

    def with_overrides(self, overrides: RunOptions) -> ProcessOptions:
        """These options with those ``pipeline.processes.<name>`` sets in the config (which
        the config's schema checked: unknown keys never get this far)."""
        return replace(self, **overrides.set())


def _check_number(
    process: str,
    option: str,
    value: Any,
    *,
    minimum: float,
    integer: bool = False,
    exclusive: bool = False,
) -> None:
    kinds = (int,) if integer else (int, float)
    bad = isinstance(value, bool) or not isinstance(value, kinds)
    bad = bad or (value <= minimum if exclusive else value < minimum)
    if bad:
        wanted = "an integer" if integer else "a number"
        bound = f"> {minimum}" if exclusive else f">= {minimum}"
        raise ConfigError(
            f"process {process!r}: {option} must be {wanted} {bound}, found {value!r}"
        )


@dataclass(frozen=True)
class StepInfo:
    name: str
    function: Callable[..., Any]
    cache: bool = True


__all__ = ["ProcessOptions", "RunOptions", "StepInfo"]
