"""What a run is made of before and after it runs: its plan, and its records.

:class:`RunPlan` is decided before the run starts (the graph, the processes,
their parameters and options, the selection, what joins every cache key);
:class:`ProcessRecord` is one process's row of the run record, and
:class:`PipelineRun` what the scheduler returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops.cache.payload_spill import hydrate
from mlops.config.graph import PipelineGraph
from mlops.config.pipeline import ProcessConfig
from mlops.engine.step_system import (
    ProcessDefinition,
    unfilled_argument,
    unfilled_argument_message,
)
from mlops.errors import GraphError
from mlops.tracking.process_record import ProcessRecord
from mlops.tracking.status import ProcessStatus, RunStatus


@dataclass
class PipelineRun:
    """The outcome of a run: its status, every process's record, and the results."""

    run_id: str
    status: RunStatus
    processes: dict[str, ProcessRecord]
    results: dict[str, Any]
    objects: Any = field(repr=False, default=None)

    @property
    def failed_process(self) -> str | None:
        return next(
            (n for n, r in self.processes.items() if r.status is ProcessStatus.FAILED), None
        )

    def result(self, name: str) -> Any:
        """A process's result, loaded from the object store if it travelled as a reference."""
        if name not in self.results:
            raise KeyError(f"process {name!r} produced no result in run {self.run_id}")
        return hydrate(self.results[name], self.objects)


@dataclass(frozen=True)
class Selection:
    """Which processes a run covers: all, ``from_process`` onwards, or ``only`` one."""

    from_process: str | None = None
    only: str | None = None

    def check(self, graph: PipelineGraph) -> None:
        for flag, name in (("--from", self.from_process), ("--only", self.only)):
            if name is not None and name not in graph:
                raise GraphError(
                    f"{flag} {name}: no such process in the pipeline",
                    hint=f"processes: {', '.join(graph.order)}",
                )
        if self.from_process and self.only:
            raise GraphError("--from and --only cannot be used together")


def check_arguments(
    graph: PipelineGraph,
    definitions: Mapping[str, ProcessDefinition],
    params_for: Callable[[str], Mapping[str, Any]],
) -> None:
    """Every argument a process takes must be filled (context, upstream, parameter, default):
    a GraphError naming the first that is not, before anything runs."""
    for name in graph.order:
        function = definitions[name].function
        missing = unfilled_argument(function, graph.upstream(name), params_for(name))
        if missing is not None:
            message, hint = unfilled_argument_message(name, missing)
            raise GraphError(message, hint=hint)


@dataclass(frozen=True)
class RunPlan:
    """What one run runs, decided before it starts: the graph and its processes, their
    parameters and options, the selection, and what joins every cache key.

    The platform builds it from the loaded project and the run request; the
    scheduler only carries it out.
    """

    graph: PipelineGraph
    definitions: Mapping[str, ProcessDefinition]
    run_id: str
    project: str
    params: Mapping[str, Any] = field(default_factory=dict)
    process_config: Mapping[str, ProcessConfig] = field(default_factory=dict)
    env_key: str = ""  # what of the environment every cache key holds (LoadedProject.env_key)
    seed: int | None = None
    use_cache: bool = True
    selection: Selection = field(default_factory=Selection)
    source_root: Path | None = None  # where the project's modules are imported from
    project_dir: Path | None = None  # input paths are relative to it
    spill_threshold: int | None = None  # results over it travel through the object store


__all__ = ["PipelineRun", "ProcessRecord", "RunPlan", "Selection", "check_arguments"]
