"""Adapters by framework name, from the ``mlops.adapters`` entry-point group.

Third-party packages add a framework by declaring an entry point::

    [project.entry-points."mlops.adapters"]
    torch = "mlops_torch.adapter:TorchAdapter"

The built-in ``custom`` and ``sklearn`` adapters are registered the same way
in mlops's own metadata, and also known by name here, so they work when mlops
runs from a source tree without installed metadata.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from mlops.adapters.base import AdapterError, ModelAdapter
from mlops.config.schema import AdapterConfig
from mlops.errors import ConfigError

ENTRY_POINT_GROUP = "mlops.adapters"
BUILTIN_ADAPTERS = {
    "custom": "mlops.adapters.custom.custom_adapter:CustomAdapter",
    "sklearn": "mlops.adapters.sklearn.adapter:SklearnAdapter",
}


class AdapterPluginManager:
    """Finds, registers and creates adapters."""

    def __init__(self, entry_points: Iterable[metadata.EntryPoint] | None = None) -> None:
        found = (
            metadata.entry_points(group=ENTRY_POINT_GROUP) if entry_points is None else entry_points
        )
        self._targets: dict[str, str] = dict(BUILTIN_ADAPTERS)
        self._targets.update({ep.name: ep.value for ep in found})
        self._loaded: dict[str, type[ModelAdapter]] = {}

    def available(self) -> list[str]:
        return sorted({*self._targets, *self._loaded})

    def register(self, name: str, adapter: type[ModelAdapter]) -> None:
        """Add (or replace) the adapter for ``name`` in this manager."""
        if not issubclass(adapter, ModelAdapter):
            raise TypeError(f"{adapter!r} is not a ModelAdapter subclass")
        self._loaded[name.strip().lower()] = adapter

    def get(self, framework: str) -> type[ModelAdapter]:
        name = framework.strip().lower()
        if name in self._loaded:
            return self._loaded[name]
        target = self._targets.get(name)
        if target is None:
            raise ConfigError(
                f"model.framework: no adapter for {framework!r}",
                hint=f"installed adapters: {', '.join(self.available())}",
            )
        adapter = _load(name, target)
        self._loaded[name] = adapter
        return adapter

    def create_adapter(self, config: AdapterConfig, *, project_dir: Path) -> ModelAdapter:
        """The adapter for ``config.framework``, set up for the project."""
        return self.get(config.framework)(config, project_dir=project_dir)


def _load(name: str, target: str) -> type[ModelAdapter]:
    module_name, _, attribute = target.partition(":")
    try:
        value = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise AdapterError(
            f"the {name!r} adapter ({target}) cannot be loaded: {exc}",
            hint="reinstall the package that provides it",
        ) from exc
    if not (isinstance(value, type) and issubclass(value, ModelAdapter)):
        raise AdapterError(f"the {name!r} adapter ({target}) is not a ModelAdapter subclass")
    return value


def create_adapter(config: AdapterConfig, *, project_dir: Path) -> ModelAdapter:
    """The adapter for ``config`` from the installed adapters."""
    return AdapterPluginManager().create_adapter(config, project_dir=project_dir)


__all__ = [
    "BUILTIN_ADAPTERS",
    "ENTRY_POINT_GROUP",
    "AdapterPluginManager",
    "create_adapter",
]
