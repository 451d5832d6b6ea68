"""``model.parameters.pipeline``: the graph, and the options of each process, fully typed.

Everything the engine reads from the pipeline section is declared here, so a
mistake anywhere in it (``retries: one``, ``timeout: -5``, a misspelt
``proces_adjlist``, options for a process the graph does not have) is a
one-line error at its file, line and column when the config is loaded, not
a failure halfway through a run.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from mlops.config.adjacency import ADJLIST_KEY, parse_process_adjlist
from mlops.config.errors import position
from mlops.config.graph import PipelineGraph
from mlops.config.process import RunOptions
from mlops.errors import GraphError

PIPELINE_LOC = ("model", "parameters", "pipeline")
PIPELINE_KEY = ".".join(PIPELINE_LOC)

#: Results larger than this (bytes) travel to and from workers through the object store.
DEFAULT_SPILL_THRESHOLD = 1024 * 1024


def _not_bool(value: Any) -> Any:
    # YAML's `true` is a valid int and float to pydantic; as a count or a number of
    # seconds it is a mistake.
    if isinstance(value, bool):
        raise ValueError("expected a number, not true or false")
    return value


Count = Annotated[int, BeforeValidator(_not_bool)]
Seconds = Annotated[float, BeforeValidator(_not_bool)]


class ProcessConfig(BaseModel):
    """``pipeline.processes.<name>``: how one process runs in this project.

    The run options override the ``@process(...)`` arguments key by key (an
    unset key keeps the decorator's value); ``params`` are parameters for this
    process only; ``inputs`` are data files (globs, relative to the project)
    whose content joins its cache key.
    """

    model_config = ConfigDict(extra="forbid")

    retries: Count | None = Field(default=None, ge=0)
    retry_backoff: Seconds | None = Field(default=None, ge=0)
    timeout: Seconds | None = Field(default=None, gt=0)
    iterations: Count | None = Field(default=None, ge=1)
    max_iterations: Count | None = Field(default=None, ge=1)
    cache: bool | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: list[str] = Field(default_factory=list)
    #: Files (globs, relative to the project) the process writes: stored as artifacts.
    outputs: list[str] = Field(default_factory=list)

    @field_validator("inputs", "outputs", mode="before")
    @classmethod
    def _one_path_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def run_options(self) -> RunOptions:
        """The options set here that override the decorator's (retries, timeout, ...)."""
        return RunOptions(
            **self.model_dump(exclude_unset=True, exclude={"params", "inputs", "outputs"})
        )


class PipelineConfig(BaseModel):
    """``model.parameters.pipeline``: the DAG (checked when the config loads) and its processes."""

    model_config = ConfigDict(extra="forbid")

    process_adjlist: str | dict[str, list[str] | str | None] | None = None
    processes: dict[str, ProcessConfig] = Field(default_factory=dict)
    spill_threshold_bytes: Count = Field(default=DEFAULT_SPILL_THRESHOLD, ge=0)

    @field_validator("processes", mode="before")
    @classmethod
    def _no_processes_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def declared(self) -> bool:
        adjlist = self.process_adjlist
        return bool(adjlist.strip() if isinstance(adjlist, str) else adjlist)

    def graph(self, source: str = ADJLIST_KEY) -> PipelineGraph:
        """The declared graph, checked for cycles (an empty one is a GraphError)."""
        return parse_process_adjlist(self.process_adjlist, source=source)

    def check(self, data: Any, source: str) -> None:
        """Parse the graph and check the per-process options name its processes.

        ``data`` is the YAML the config was read from, for the line and column.
        """
        if not self.declared:
            return
        where = position(data, (*PIPELINE_LOC, "process_adjlist"), source)
        graph = self.graph(source=f"{where}: {ADJLIST_KEY}")
        for name in self.processes:
            if name not in graph:
                loc: Sequence[Any] = (*PIPELINE_LOC, "processes", name)
                close = difflib.get_close_matches(name, graph.order, n=1)
                raise GraphError(
                    f"{position(data, loc, source)}: {PIPELINE_KEY}.processes.{name}: "
                    "no such process in the pipeline",
                    hint=f"did you mean {close[0]!r}?"
                    if close
                    else f"processes: {', '.join(graph.order)}",
                )


__all__ = ["PIPELINE_KEY", "PipelineConfig", "ProcessConfig"]
