"""The cluster controller: one run of a project on a Dask cluster, or locally when it cannot.

``ClusterController(...).run(pipeline, ...)`` calls ``pipeline`` (the
platform's run of one request) once, with the executor, client and
execution context it settled on. The controller sits
below the platform in the layers, so it is handed the run function rather
than importing it:

1. settles the cluster settings: the project config's ``cluster:`` section,
   overridden key by key by ``configs/cluster_config.yaml`` when it exists
   (``options`` and ``env`` merge, ``passthrough`` adds up), then by the
   command line (provider, scheduler address);
2. builds the variables the workers need (:mod:`mlops.runtime.env_export`)
   and starts the provider, whose workers run this environment's interpreter;
3. on a client: installs the project runtime on every worker (variables and,
   with ``code: upload``, the project's files) and runs the pipeline there;
4. without one (scheduler down, no SLURM, no workers in time): warns once and
   runs on this machine, or raises :class:`~mlops.errors.ClusterError` when
   the settings say ``required: true``. The run record's ``execution`` says
   which path ran and why;
5. always removes the runtime from the workers and stops what it started.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from mlops.cluster.providers import (
    ClusterProvider,
    ClusterWarning,
    create_provider,
    provider_class,
    provider_options,
)
from mlops.config.cluster import ProviderOptions, UncheckedOptions
from mlops.config.schema import ClusterConfig, ProjectConfig, load_cluster_config
from mlops.errors import ClusterError, ConfigError
from mlops.runtime import env_export
from mlops.runtime.context import RuntimeContext
from mlops.runtime.request import LOCAL_EXECUTORS, RunRequest

if TYPE_CHECKING:  # distributed is imported when a cluster is used, not with the platform
    from mlops.cluster.worker_runtime import ProjectRuntime

CLUSTER_CONFIG_RELATIVE_PATH = Path("configs") / "cluster_config.yaml"
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Pipeline(Protocol[T_co]):
    """The run the controller places: ``(executor, client or None, execution) -> result``."""

    def __call__(self, executor: str, client: Any, execution: RuntimeContext, /) -> T_co: ...


@dataclass(frozen=True)
class ClusterSettings:
    """The cluster settings of one run, after every source is merged."""

    provider: str
    scheduler_address: str | None = None
    required: bool = False
    connect_timeout: float = 10.0
    code: str = "upload"
    env: dict[str, Any] = field(default_factory=dict)
    passthrough: tuple[str, ...] = ()
    options: ProviderOptions = field(default_factory=UncheckedOptions)
    sources: tuple[str, ...] = ()


def merge_settings(
    project: ClusterConfig,
    file: ClusterConfig | None,
    *,
    provider: str | None = None,
    scheduler_address: str | None = None,
    sources: tuple[str, ...] = (),
) -> ClusterSettings:
    """Merge the config section, the cluster file and the command line (later wins)."""
    layers = [project, *([file] if file is not None else [])]
    merged: dict[str, Any] = {"env": {}, "options": {}, "passthrough": []}
    for layer in layers:
        for key in layer.model_fields_set:
            value = getattr(layer, key)
            if key == "env":
                merged[key].update(value)
            elif key == "options":
                merged[key].update(value.given())
            elif key == "passthrough":
                merged[key] += [name for name in value if name not in merged[key]]
            else:
                merged[key] = value
    name = provider or merged.get("provider")
    if not name:
        raise ConfigError(
            "cluster.provider: no cluster provider is set",
            hint="pass --cluster local|ansible|slurm, or set cluster.provider in the config "
            "or in configs/cluster_config.yaml",
        )
    name = provider_class(name).name  # an unknown name (from the command line) lists the valid ones
    return ClusterSettings(
        provider=name,
        scheduler_address=scheduler_address or merged.get("scheduler_address"),
        required=bool(merged.get("required", False)),
        connect_timeout=float(merged.get("connect_timeout", 10.0)),
        code=str(merged.get("code", "upload")),
        env=dict(merged["env"]),
        passthrough=tuple(merged["passthrough"]),
        options=provider_options(name, merged["options"]),
        sources=sources,
    )


class ClusterController:
    """Runs one project on the cluster its settings describe; see the module docstring."""

    def __init__(
        self,
        project_id: str,
        *,
        project_dir: Path,
        config: ProjectConfig,
        workspace: Path,
        request: RunRequest | None = None,
        environ: Mapping[str, str] | None = None,
        python: str | None = None,
    ) -> None:
        """``request``: the run's, whose ``--cluster`` and ``--scheduler`` win over the files."""
        self.project_id = project_id
        self.project_dir = project_dir
        self.config = config
        self.workspace = workspace
        self.environ = os.environ if environ is None else environ
        # The driver runs inside the project's environment: so do the workers it starts.
        self.python = python or sys.executable
        self.settings = self._settings(
            request.cluster if request else None, request.scheduler if request else None
        )

    def _settings(self, provider: str | None, scheduler_address: str | None) -> ClusterSettings:
        path = self.project_dir / CLUSTER_CONFIG_RELATIVE_PATH
        display = str(Path(self.project_id) / CLUSTER_CONFIG_RELATIVE_PATH)
        file = load_cluster_config(path, display=display)
        sources = ("cluster:", *((display,) if file is not None else ()))
        return merge_settings(
            self.config.cluster,
            file,
            provider=provider,
            scheduler_address=scheduler_address,
            sources=sources,
        )

    def exports(self) -> dict[str, str]:
        """The variables every worker gets (the project's stores, its env, its passthrough)."""
        stores = self.config.storage
        project = env_export.WorkerProject(
            self.workspace,
            self.project_id,
            self.project_dir,
            kv=stores.kv.model_dump() if stores.kv else None,
            objects=stores.objects.model_dump() if stores.objects else None,
        )
        return env_export.worker_environment(
            project,
            environ=self.environ,
            passthrough=self.settings.passthrough,
            extra=self.settings.env,
        )

    def provider(self, exports: Mapping[str, str] | None = None) -> ClusterProvider:
        settings = self.settings
        return create_provider(
            settings.provider,
            settings.options,
            scheduler_address=settings.scheduler_address,
            connect_timeout=settings.connect_timeout,
            python=self.python,
            exports=self.exports() if exports is None else exports,
            environ=self.environ,
        )

    def runtime(self, exports: Mapping[str, str], *, ship_code: bool) -> ProjectRuntime:
        """The worker plugin for this run: variables, and the project's files when shipped."""
        from mlops.cluster import worker_runtime

        archive = digest = None
        if ship_code:
            archive, digest = worker_runtime.project_archive(self.project_dir)
        return worker_runtime.ProjectRuntime(
            self.project_id,
            variables=exports,
            project_dir=str(self.project_dir.resolve()),
            archive=archive,
            digest=digest,
        )

    def fallback_executor(self, requested: str | None) -> str:
        """The executor a run falls back to: the one asked for, when it runs on this machine."""
        for kind in (requested, self.config.executor.type):
            if kind in LOCAL_EXECUTORS:
                return kind
        return "sequential"

    def run(self, pipeline: Pipeline[T], *, executor: str | None = None) -> T:
        """Call ``pipeline(executor, client, execution)`` once: on the cluster (executor
        ``dask`` and its client), or locally (``executor`` when it runs on this machine,
        no client); ``execution`` says which path and why."""
        from mlops.cluster import worker_runtime

        settings = self.settings
        exports = self.exports()
        provider = self.provider(exports)
        interrupted = False
        try:
            client, _ = provider.start()
            if client is None:
                return self._run_locally(pipeline, provider, executor)
            runtime = self.runtime(exports, ship_code=provider.remote and settings.code == "upload")
            worker_runtime.register(client, runtime)
            try:
                workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
                code = settings.code if provider.remote else "local"
                context = RuntimeContext(
                    execution="cluster",
                    provider=settings.provider,
                    scheduler=provider.address,
                    details={"workers": workers, "code": code},
                )
                return pipeline("dask", client, context)
            except KeyboardInterrupt:
                interrupted = True
                raise
            finally:
                if not interrupted:
                    worker_runtime.unregister(client, runtime)
        except KeyboardInterrupt:
            # Stopping a cluster in order waits for the tasks it runs; the program
            # ends next instead, and the workers it started exit with it.
            interrupted = True
            raise
        finally:
            if not interrupted:
                provider.stop()

    def _run_locally(
        self, pipeline: Pipeline[T], provider: ClusterProvider, executor: str | None
    ) -> T:
        settings = self.settings
        reason = provider.failure or "the cluster did not start"
        where = f"cluster ({settings.provider})"
        if settings.required:
            raise ClusterError(
                f"{where}: {reason}",
                hint="start the cluster or fix its address; cluster.required: false "
                "runs locally instead",
            )
        kind = self.fallback_executor(executor)
        warnings.warn(
            f"{where}: {reason}; running on this machine ({kind} executor)",
            ClusterWarning,
            stacklevel=3,
        )
        context = RuntimeContext(
            execution="local",
            provider=settings.provider,
            scheduler=provider.scheduler_address,
            details={"fallback": reason},
        )
        return pipeline(kind, None, context)


__all__ = [
    "CLUSTER_CONFIG_RELATIVE_PATH",
    "ClusterController",
    "ClusterSettings",
    "merge_settings",
]
