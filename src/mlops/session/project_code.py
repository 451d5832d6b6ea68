"""A project's code, checked as a run checks it before anything runs."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

from mlops.adapters.base import ModelAdapter
from mlops.adapters.plugin_manager import AdapterPluginManager
from mlops.config.adjacency import ADJLIST_KEY, check_processes
from mlops.engine.plan import check_arguments
from mlops.engine.step_system import ProcessDefinition
from mlops.managers.loaded_project import LoadedProject


class PipelineWarning(UserWarning):
    """Something about the pipeline the user should know; the run goes on."""


@dataclass(frozen=True)
class ProjectCode:
    """The project's adapter, the processes it defines, and the notes about them."""

    adapter: ModelAdapter
    definitions: Mapping[str, ProcessDefinition]
    notes: list[str] = field(default_factory=list)


def check_project(plugins: AdapterPluginManager, project: LoadedProject) -> ProjectCode:
    """Import the project's modules and check them against its graph.

    Every process in the graph must be defined and every argument it takes
    filled (GraphError otherwise); what is worth saying but does not stop the
    run comes back as notes, each also a :class:`PipelineWarning`.
    """
    adapter = plugins.create_adapter(project.config.model, project_dir=project.path)
    definitions = adapter.discover()
    source = f"{project.display_path}: {ADJLIST_KEY}"
    notes = check_processes(project.graph, definitions, source=source)
    params = project.params()
    own = {name: options.params for name, options in project.process_config.items()}
    check_arguments(project.graph, definitions, lambda name: {**params, **own.get(name, {})})
    for note in notes:
        warnings.warn(note, PipelineWarning, stacklevel=3)
    return ProjectCode(adapter, definitions, notes)


__all__ = ["PipelineWarning", "ProjectCode", "check_project"]
