"""Cluster providers: where a Dask client for a run comes from.

Every provider has ``start() -> (client, cluster)`` and ``stop()``.

- ``local``: a ``LocalCluster`` of worker processes on this machine, sized from
  the machine (one single-threaded worker per core) or from ``options``.
- ``ansible``: a scheduler provisioned elsewhere (by Ansible, by hand, by a
  platform team). It connects to ``scheduler_address`` (the options, the
  cluster config, or ``$DASK_SCHEDULER_ADDRESS``) within ``connect_timeout``
  and waits for ``min_workers``. When it cannot, ``start`` returns
  ``(None, None)`` and :attr:`ClusterProvider.failure` says why: the
  controller then runs locally, or fails when the cluster is required.
- ``slurm``: ``dask_jobqueue.SLURMCluster``: each worker is a SLURM job whose
  script runs the project environment's interpreter (``python``) after the
  prologue, which exports the run's variables. ``jobs`` (or ``adapt``) sizes
  it. Without dask-jobqueue it warns and starts a ``LocalCluster`` instead.

Providers own what they start: ``stop`` closes the client, and the cluster
when the provider created it; a scheduler someone else runs is left running.
"""

from __future__ import annotations

import os
import shutil
import warnings
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import ValidationError

from mlops.cluster.local_executors import environ_restored, local_client
from mlops.config.cluster import (
    OPTIONS_BY_PROVIDER,
    AnsibleOptions,
    LocalOptions,
    ProviderOptions,
    SlurmOptions,
    check_scheduler_address,
)
from mlops.config.errors import config_error
from mlops.errors import ConfigError
from mlops.runtime.env_export import to_shell

SCHEDULER_ADDRESS_VAR = "DASK_SCHEDULER_ADDRESS"


class ClusterWarning(UserWarning):
    """The cluster is not what was asked for; the run goes on."""


class ClusterProvider(ABC):
    """Starts (or reaches) a Dask cluster and gives a client for it."""

    name: ClassVar[str]
    #: Workers may run on other hosts: the project's code is shipped to them.
    remote: ClassVar[bool] = True

    def __init__(
        self,
        options: Mapping[str, Any] | ProviderOptions | None = None,
        *,
        scheduler_address: str | None = None,
        connect_timeout: float = 10.0,
        python: str | None = None,
        exports: Mapping[str, str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.options = provider_options(self.name, options)
        self.scheduler_address = scheduler_address
        self.connect_timeout = connect_timeout
        self.python = python
        self.exports = dict(exports or {})
        self.environ = os.environ if environ is None else environ
        self.failure: str | None = None
        self.client: Any = None
        self.cluster: Any = None

    @abstractmethod
    def start(self) -> tuple[Any, Any]:
        """``(client, cluster)``; ``(None, None)`` with :attr:`failure` set when unreachable."""

    @property
    def address(self) -> str | None:
        """The scheduler's address once started."""
        if self.client is not None:
            return str(self.client.scheduler.address)
        return self.scheduler_address

    def stop(self) -> None:
        """Close the client, and the cluster if this provider started it. Idempotent."""
        client, cluster = self.client, self.cluster
        self.client = self.cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    # -------------------------------------------------------------- helpers

    def _wait_for_workers(self, client: Any, count: int, timeout: float, where: str) -> bool:
        if count <= 0:
            return True
        try:
            client.wait_for_workers(count, timeout=timeout)
        except (TimeoutError, OSError) as exc:
            self.failure = (
                f"{where} has fewer than {count} worker{'s' if count > 1 else ''} "
                f"after {timeout:g} s ({type(exc).__name__})"
            )
            return False
        return True


class LocalClusterProvider(ClusterProvider):
    """Worker processes on this machine (loopback only)."""

    name = "local"
    remote = False
    options: LocalOptions

    def start(self) -> tuple[Any, Any]:
        options = self.options
        extra = {"memory_limit": options.memory_limit} if options.memory_limit is not None else {}
        self.client = local_client(
            n_workers=options.n_workers,
            threads_per_worker=options.threads_per_worker,
            processes=options.processes,
            **extra,
        )
        self.cluster = self.client.cluster
        return self.client, self.cluster


class AnsibleClusterProvider(ClusterProvider):
    """A scheduler that already runs somewhere; only the client is ours."""

    name = "ansible"
    options: AnsibleOptions

    def resolve_address(self) -> str:
        address = (
            self.options.scheduler_address
            or self.scheduler_address
            or self.environ.get(SCHEDULER_ADDRESS_VAR)
        )
        if not address or not isinstance(address, str):
            raise ConfigError(
                "cluster.scheduler_address: the ansible provider connects to a running "
                "Dask scheduler and none is set",
                hint=f"set cluster.scheduler_address (tcp://HOST:8786) or ${SCHEDULER_ADDRESS_VAR}",
            )
        try:
            check_scheduler_address(address)
        except ValueError as exc:
            raise ConfigError(f"cluster.scheduler_address: {exc}") from None
        return address if "://" in address else f"tcp://{address}"

    def start(self) -> tuple[Any, Any]:
        from distributed import Client

        address = self.resolve_address()
        self.scheduler_address = address
        timeout = self.options.connect_timeout or self.connect_timeout
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as exc:
            reason = " ".join(str(exc).split()) or type(exc).__name__
            self.failure = f"cannot reach the Dask scheduler at {address}: {reason}"
            return None, None
        where = f"the scheduler at {address}"
        if not self._wait_for_workers(client, self.options.min_workers, timeout, where):
            client.close()
            return None, None
        self.client = client
        return client, None

    def stop(self) -> None:
        # The scheduler and its workers belong to whoever started them.
        client, self.client = self.client, None
        if client is not None:
            client.close()


class SlurmClusterProvider(ClusterProvider):
    """Dask workers as SLURM jobs (dask-jobqueue)."""

    name = "slurm"
    options: SlurmOptions

    def cluster_kwargs(self) -> dict[str, Any]:
        """The ``SLURMCluster`` arguments for these options (pure: nothing starts)."""
        options = self.options
        passed = options.model_dump(
            include=set(_SLURM_CLUSTER_ARGUMENTS),
            exclude={"job_script_prologue", "scheduler_options"},
        )
        kwargs: dict[str, Any] = {k: v for k, v in passed.items() if v is not None}
        # The run's variables first, so a user prologue can use them.
        kwargs["job_script_prologue"] = [*to_shell(self.exports), *options.job_script_prologue]
        if self.python:
            kwargs["python"] = self.python
        kwargs["scheduler_options"] = {"dashboard_address": ":0", **options.scheduler_options}
        return kwargs

    def make_cluster(self) -> Any:
        """A ``SLURMCluster`` with no jobs yet (its ``job_script()`` is what each job runs)."""
        from dask_jobqueue.slurm import SLURMCluster

        with environ_restored():
            return SLURMCluster(silence_logs="error", **self.cluster_kwargs())

    def start(self) -> tuple[Any, Any]:
        try:
            import dask_jobqueue  # noqa: F401
        except ImportError:
            warnings.warn(
                "cluster: the slurm provider needs dask-jobqueue, which is not installed "
                "(pip install 'mlops[cluster]'); running on a LocalCluster on this machine",
                ClusterWarning,
                stacklevel=2,
            )
            fallback = LocalClusterProvider(environ=self.environ)
            client, cluster = fallback.start()
            self.client, self.cluster = client, cluster
            return client, cluster
        submit = self.options.submit_command
        if shutil.which(submit, path=self.environ.get("PATH")) is None:
            self.failure = f"cannot submit SLURM jobs: {submit!r} is not on PATH"
            return None, None
        from distributed import Client

        self.cluster = self.make_cluster()
        adapt = self.options.adapt
        if adapt is not None:
            self.cluster.adapt(minimum=adapt.minimum, maximum=adapt.maximum)
        else:
            self.cluster.scale(jobs=self.options.jobs)
        self.client = Client(self.cluster, set_as_default=False)
        min_workers, timeout = self.options.min_workers, self.options.worker_timeout
        if not self._wait_for_workers(self.client, min_workers, timeout, "the SLURM cluster"):
            self.stop()
            return None, None
        return self.client, self.cluster


# What SLURMCluster takes as it is; the rest are how mlops drives it (jobs, adapt, waiting).
_SLURM_CLUSTER_ARGUMENTS = frozenset(
    {
        "cores", "memory", "processes", "walltime", "queue", "account", "interface",
        "local_directory", "log_directory", "job_name", "job_extra_directives",
        "worker_extra_args", "job_script_prologue", "scheduler_options",
    }
)  # fmt: skip


def provider_options(provider: str, options: Mapping[str, Any] | ProviderOptions | None) -> Any:
    """``options`` checked against ``provider``'s model: one ConfigError line when wrong."""
    model = OPTIONS_BY_PROVIDER[provider]
    if isinstance(options, model):
        return options
    values = options.given() if isinstance(options, ProviderOptions) else dict(options or {})
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise config_error(exc, values, "", root=model, prefix=("cluster", "options")) from None


PROVIDERS: dict[str, type[ClusterProvider]] = {
    "local": LocalClusterProvider,
    "ansible": AnsibleClusterProvider,
    "slurm": SlurmClusterProvider,
}


def provider_class(name: str) -> type[ClusterProvider]:
    """The provider named ``name``; an unknown name lists the valid ones."""
    key = str(name).strip().lower()
    if key not in PROVIDERS:
        raise ConfigError(
            f"cluster.provider: unknown provider {name!r}",
            hint=f"choose one of: {', '.join(PROVIDERS)}",
        )
    return PROVIDERS[key]


def create_provider(
    name: str, options: Mapping[str, Any] | ProviderOptions | None = None, **kwargs: Any
) -> ClusterProvider:
    """The provider ``name`` configured with ``options`` (see :class:`ClusterProvider`)."""
    return provider_class(name)(options, **kwargs)


__all__ = [
    "PROVIDERS",
    "SCHEDULER_ADDRESS_VAR",
    "AnsibleClusterProvider",
    "ClusterProvider",
    "ClusterWarning",
    "LocalClusterProvider",
    "SlurmClusterProvider",
    "create_provider",
    "provider_class",
]
