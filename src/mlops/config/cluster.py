"""``cluster.options``: one model per provider, chosen by the section's ``provider``.

The config schema checks the options of the provider the same section names
(errors then carry the file, line and column); the cluster controller checks
the merged options once the provider is settled (it may come from
``configs/cluster_config.yaml`` or ``--cluster``), and the providers read the
typed model. One model per provider is the one list of what it accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Strict, Tag, field_validator

from mlops.runtime.request import CLUSTER_PROVIDERS

#: The key the schema adds to ``options`` to say which provider's model applies.
PROVIDER_TAG = "provider"
UNCHECKED = "unchecked"
#: A whole number as written (``true`` or ``1.5`` are mistakes, not 1).
Count = Annotated[int, Strict()]


class ProviderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Added by the schema from the section's provider; never written by users.
    provider: str = Field(default=UNCHECKED, exclude=True)

    def given(self) -> dict[str, Any]:
        """The options the user set, as plain data."""
        return self.model_dump(exclude_unset=True)


class LocalOptions(ProviderOptions):
    provider: Literal["local"] = Field(default="local", exclude=True)
    #: Worker processes; one per core when unset.
    n_workers: Count | None = Field(default=None, ge=1)
    threads_per_worker: Count | None = Field(default=None, ge=1)
    #: ``false`` runs the workers as threads of this process.
    processes: bool = True
    #: Per worker, e.g. ``2GB`` or a number of bytes.
    memory_limit: str | int | None = None


class AnsibleOptions(ProviderOptions):
    provider: Literal["ansible"] = Field(default="ansible", exclude=True)
    scheduler_address: str | None = Field(default=None, min_length=1)
    connect_timeout: float | None = Field(default=None, gt=0)
    #: Workers to wait for before the run starts.
    min_workers: Count = Field(default=1, ge=0)

    @field_validator("scheduler_address")
    @classmethod
    def _dask_address(cls, value: str | None) -> str | None:
        return None if value is None else check_scheduler_address(value)


SCHEDULER_PROTOCOLS = ("tcp", "tls", "ws", "wss", "ucx", "inproc")


def check_scheduler_address(address: str) -> str:
    """``address`` when Dask can connect to it (``tcp://HOST:PORT``); else a ValueError
    saying what is wrong, raised before any connection is tried."""
    text = address if "://" in address else f"tcp://{address}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(
            f"{address!r} is not a scheduler address ({exc}); use tcp://HOST:PORT"
        ) from None
    if parts.scheme not in SCHEDULER_PROTOCOLS:
        raise ValueError(
            f"{address!r}: protocol {parts.scheme!r} is not one Dask speaks "
            f"({', '.join(SCHEDULER_PROTOCOLS)}); use tcp://HOST:PORT"
        )
    if not parts.hostname or parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"{address!r} is not a scheduler address; use tcp://HOST:PORT")
    if port == 0:
        raise ValueError(f"{address!r}: port 0 is not a port to connect to; use tcp://HOST:PORT")
    return address


class AdaptBounds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    minimum: Count = Field(default=0, ge=0)
    maximum: Count = Field(ge=1)


class SlurmOptions(ProviderOptions):
    provider: Literal["slurm"] = Field(default="slurm", exclude=True)
    cores: Count = Field(default=1, ge=1)
    memory: str = "2GB"
    processes: Count = Field(default=1, ge=1)
    walltime: str | None = None
    queue: str | None = None
    account: str | None = None
    interface: str | None = None
    local_directory: str | None = None
    log_directory: str | None = None
    job_name: str | None = None
    job_extra_directives: list[str] = Field(default_factory=list)
    job_script_prologue: list[str] = Field(default_factory=list)
    worker_extra_args: list[str] = Field(default_factory=list)
    scheduler_options: dict[str, Any] = Field(default_factory=dict)
    #: Fixed number of jobs; ``adapt`` scales between bounds instead.
    jobs: Count = Field(default=1, ge=0)
    adapt: AdaptBounds | None = None
    min_workers: Count = Field(default=1, ge=0)
    worker_timeout: float = Field(default=300.0, gt=0)
    submit_command: str = Field(default="sbatch", min_length=1)


class UncheckedOptions(ProviderOptions):
    """Options of a section without a provider: checked when the provider is known."""

    model_config = ConfigDict(extra="allow", frozen=True)


OPTIONS_BY_PROVIDER: dict[str, type[ProviderOptions]] = {
    "local": LocalOptions,
    "ansible": AnsibleOptions,
    "slurm": SlurmOptions,
}
if tuple(OPTIONS_BY_PROVIDER) != CLUSTER_PROVIDERS:  # one list of providers
    raise ImportError("cluster_options: a provider without an options model")


def _tag(value: Any) -> str:
    if isinstance(value, ProviderOptions):
        return value.provider
    if isinstance(value, Mapping):
        tag = value.get(PROVIDER_TAG, UNCHECKED)
        return tag if tag in OPTIONS_BY_PROVIDER else UNCHECKED
    return UNCHECKED


AnyProviderOptions = Annotated[
    Annotated[LocalOptions, Tag("local")]
    | Annotated[AnsibleOptions, Tag("ansible")]
    | Annotated[SlurmOptions, Tag("slurm")]
    | Annotated[UncheckedOptions, Tag(UNCHECKED)],
    Discriminator(_tag),
]


def tagged(options: Any, provider: Any) -> Any:
    """``options`` marked for ``provider``'s model (as the schema validates them)."""
    if isinstance(options, Mapping) and isinstance(provider, str):
        return {**options, PROVIDER_TAG: provider.strip().lower()}
    return options


__all__ = [
    "OPTIONS_BY_PROVIDER",
    "PROVIDER_TAG",
    "AdaptBounds",
    "AnsibleOptions",
    "AnyProviderOptions",
    "LocalOptions",
    "ProviderOptions",
    "SlurmOptions",
    "UncheckedOptions",
    "tagged",
]
