"""A run's charts: drawn when it completes, and again on request (``mlops charts render``)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops.adapters.base import ModelAdapter
from mlops.adapters.plugin_manager import AdapterPluginManager
from mlops.errors import ConfigError, MlopsError
from mlops.managers.loaded_project import LoadedProject
from mlops.reporting.kv_utils import check_part
from mlops.reporting.registry import discover_charts
from mlops.reporting.rendering import ChartJob, ChartWarning, render_charts
from mlops.session.settings import ProjectStores, open_stores
from mlops.tracking.run_records import get_run, latest_run


def charts_after_run(
    project: LoadedProject,
    adapter: ModelAdapter,
    stores: ProjectStores,
    record: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The charts of a run that just completed; a chart that cannot be set up is a
    warning, never a failed run."""
    if not project.config.reporting.charts:
        return []
    try:
        return _render(project, adapter, stores, record, reuse=True)
    except MlopsError as exc:
        warnings.warn(f"charts of {project.id}: {exc.one_line()}", ChartWarning, stacklevel=2)
        return []


def render_run_charts(
    plugins: AdapterPluginManager,
    project: LoadedProject,
    state_dir: Path,
    run_id: str | None = None,
) -> list[dict[str, Any]]:
    """Draw the charts of a finished run again (the latest when ``run_id`` is None)."""
    if run_id is not None:
        check_part(run_id, "run")
    if not project.config.reporting.charts:
        raise ConfigError(
            f"{project.display_path}: reporting.charts is empty",
            hint="list the charts to render, e.g. charts: [{name: metrics}]",
        )
    adapter = plugins.create_adapter(project.config.model, project_dir=project.path)
    stores = open_stores(project, state_dir)
    try:
        latest = latest_run(stores.kv) if run_id is None else None
        wanted = run_id or (str(latest["run_id"]) if latest else None)
        record = get_run(stores.kv, wanted) if wanted else None
        if record is None:
            raise ConfigError(
                f"project {project.id} has no run {run_id!r}"
                if run_id
                else f"project {project.id} has no runs yet",
                hint=f"run it with `mlops run {project.id}`",
            )
        return _render(project, adapter, stores, record, reuse=False)  # asked for: drawn again
    finally:
        stores.close()


def _render(
    project: LoadedProject,
    adapter: ModelAdapter,
    stores: ProjectStores,
    record: Mapping[str, Any],
    *,
    reuse: bool,
) -> list[dict[str, Any]]:
    job = ChartJob(
        project.id, adapter.project_dir, record, stores.kv, stores.objects, project.params()
    )
    registry = discover_charts(adapter.modules())
    return render_charts(job, project.config.reporting.charts, registry, reuse=reuse)


__all__ = ["charts_after_run", "render_run_charts"]
