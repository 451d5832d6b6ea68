"""``@chart``: chart functions, registered by name and kind.

A chart is a function of a :class:`~mlops.reporting.context.ChartContext`:

- ``static`` charts draw with matplotlib and return the figure (or ``None``
  after calling ``ctx.save_figure``); they become PNG files;
- ``dynamic`` charts return data the web UI draws: ``{"series": [{"name":
  ..., "points": [[x, y], ...]}], "x_label": ..., "y_label": ...}``.

Charts live in the project's modules next to its processes. The config's
``reporting.charts`` says which to render (by name, or by ``entrypoint:
"module:function"``); :func:`discover_charts` finds the decorated ones.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, overload

from mlops.errors import ConfigError

ChartKind = Literal["static", "dynamic"]
CHART_KINDS: tuple[ChartKind, ...] = ("static", "dynamic")
CHART_MARK = "__mlops_chart__"


@dataclass(frozen=True)
class ChartSpec:
    """A registered chart: its name, kind, title and function."""

    name: str
    kind: ChartKind
    function: Callable[..., Any]
    title: str | None = None

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ")


@overload
def chart(function: Callable[..., Any], /) -> Callable[..., Any]: ...


@overload
def chart(
    *, name: str | None = None, kind: ChartKind = "static", title: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


def chart(
    function: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    kind: ChartKind = "static",
    title: str | None = None,
) -> Any:
    """Mark a function as a chart (``@chart`` or ``@chart(kind="dynamic", ...)``)."""
    if kind not in CHART_KINDS:
        raise ValueError(f"chart kind must be one of {CHART_KINDS}, not {kind!r}")

    def mark(f: Callable[..., Any]) -> Callable[..., Any]:
        setattr(f, CHART_MARK, ChartSpec(name or f.__name__, kind, f, title))
        return f

    return mark(function) if function is not None else mark


def chart_spec(obj: object) -> ChartSpec | None:
    """The spec ``@chart`` attached to ``obj``, or None."""
    found = getattr(obj, CHART_MARK, None)
    return found if isinstance(found, ChartSpec) else None


class ChartRegistry:
    """Charts by name; a second chart under a taken name is an error naming both."""

    def __init__(self, specs: Iterable[ChartSpec] = ()) -> None:
        self._specs: dict[str, ChartSpec] = {}
        for spec in specs:
            self.register(spec)

    def register(self, spec: ChartSpec) -> ChartSpec:
        existing = self._specs.get(spec.name)
        if existing is not None and existing.function is not spec.function:
            raise ConfigError(
                f"chart {spec.name!r} is defined twice: {_where(existing.function)} and "
                f"{_where(spec.function)}",
                hint="rename one, or pass name=... to @chart",
            )
        self._specs[spec.name] = spec
        return spec

    def get(self, name: str) -> ChartSpec:
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(sorted(self._specs)) or "none are defined"
            raise ConfigError(
                f"reporting.charts: no chart named {name!r} in the project's modules",
                hint=f"decorate a function with @chart (charts: {known})",
            ) from None

    def names(self) -> list[str]:
        return sorted(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __len__(self) -> int:
        return len(self._specs)


def discover_charts(modules: Iterable[ModuleType]) -> ChartRegistry:
    """Every ``@chart`` function defined in ``modules`` (not merely imported there)."""
    registry = ChartRegistry()
    for module in modules:
        for value in vars(module).values():
            spec = chart_spec(value)
            if spec is not None and getattr(value, "__module__", None) == module.__name__:
                registry.register(spec)
    return registry


def load_entrypoint(reference: str, kind: ChartKind, name: str) -> ChartSpec:
    """The chart at ``module:function`` (decorated or not; the config gives the kind)."""
    module_name, _, attribute = reference.partition(":")
    if not module_name or not attribute:
        raise ConfigError(
            f"reporting.charts.{name}.entrypoint: expected 'module:function', found {reference!r}"
        )
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(
            f"reporting.charts.{name}.entrypoint: cannot import {reference}: {exc}"
        ) from exc
    if not callable(target):
        raise ConfigError(f"reporting.charts.{name}.entrypoint: {reference} is not callable")
    spec = chart_spec(target)
    return ChartSpec(name, kind, target, spec.title if spec else None)


def _where(function: Callable[..., Any]) -> str:
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', '?')}"


__all__ = [
    "CHART_KINDS",
    "ChartKind",
    "ChartRegistry",
    "ChartSpec",
    "chart",
    "chart_spec",
    "discover_charts",
    "load_entrypoint",
]
