"""Cluster providers: selection, options, where the scheduler address comes from, and failures."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from mlops.cluster.providers import (
    PROVIDERS,
    AnsibleClusterProvider,
    LocalClusterProvider,
    SlurmClusterProvider,
    create_provider,
    provider_class,
)
from mlops.config.schema import CLUSTER_PROVIDERS, ClusterConfig
from mlops.errors import ConfigError


def test_the_config_schema_and_the_registry_name_the_same_providers() -> None:
    literal = ClusterConfig.model_fields["provider"].annotation
    assert tuple(PROVIDERS) == CLUSTER_PROVIDERS == get_args(get_args(literal)[0])


@pytest.mark.parametrize("name", ["local", "ANSIBLE", " slurm "], ids=["lower", "upper", "spaced"])
def test_providers_are_chosen_by_name(name: str) -> None:
    assert provider_class(name).name == name.strip().lower()


def test_an_unknown_provider_lists_the_valid_ones() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown provider 'kube' \(choose one of: local, ansible, slurm\)"
    ):
        create_provider("kube")


def test_an_unknown_option_names_the_key_and_the_valid_options() -> None:
    with pytest.raises(ConfigError) as caught:
        LocalClusterProvider({"cpus": 2})
    assert caught.value.one_line() == (
        "cluster.options.cpus: unknown key "
        "(valid keys here: memory_limit, n_workers, processes, threads_per_worker)"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, "expected a value >= 1, found 0"), ("two", "expected an integer, found 'two'"),
     (True, "expected an integer, found True"), (1.5, "expected an integer, found 1.5")],
    ids=["zero", "text", "bool", "float"],
)  # fmt: skip
def test_a_count_option_must_be_a_whole_number(value: object, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        SlurmClusterProvider({"cores": value})
    assert caught.value.one_line() == f"cluster.options.cores: {expected}"


# ------------------------------------------------------------------ ansible: an existing scheduler


def test_ansible_needs_a_scheduler_address() -> None:
    provider = AnsibleClusterProvider(environ={})

    with pytest.raises(ConfigError, match=r"cluster.scheduler_address: .* none is set") as caught:
        provider.start()
    assert "DASK_SCHEDULER_ADDRESS" in caught.value.one_line()


@pytest.mark.parametrize(
    ("options", "address", "environ", "expected"),
    [
        (
            {"scheduler_address": "tcp://a:1"},
            "tcp://b:2",
            {"DASK_SCHEDULER_ADDRESS": "c:3"},
            "tcp://a:1",
        ),
        ({}, "tcp://b:2", {"DASK_SCHEDULER_ADDRESS": "c:3"}, "tcp://b:2"),
        ({}, None, {"DASK_SCHEDULER_ADDRESS": "c:3"}, "tcp://c:3"),
    ],
    ids=["options-first", "settings-next", "environment-last"],
)
def test_the_scheduler_address_comes_from_options_then_settings_then_the_environment(
    options: dict[str, str], address: str | None, environ: dict[str, str], expected: str
) -> None:
    provider = AnsibleClusterProvider(options, scheduler_address=address, environ=environ)

    assert provider.resolve_address() == expected


# ------------------------------------------------------------------ slurm


def test_slurm_options_become_cluster_arguments_with_the_exports_first() -> None:
    provider = SlurmClusterProvider(
        {
            "cores": 4,
            "memory": "8GB",
            "walltime": "01:00:00",
            "queue": "gpu",
            "account": "ml",
            "job_extra_directives": ["--exclusive"],
            "job_script_prologue": ["module load cuda"],
        },
        python="/envs/demo/bin/python",
        exports={"MLOPS_PROJECT_ID": "demo"},
    )

    kwargs = provider.cluster_kwargs()

    assert kwargs == {
        "cores": 4,
        "memory": "8GB",
        "processes": 1,
        "walltime": "01:00:00",
        "queue": "gpu",
        "account": "ml",
        "job_extra_directives": ["--exclusive"],
        "worker_extra_args": [],
        "job_script_prologue": ["export MLOPS_PROJECT_ID=demo", "module load cuda"],
        "python": "/envs/demo/bin/python",
        "scheduler_options": {"dashboard_address": ":0"},
    }


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"job_extra_directives": "--exclusive"},
            "cluster.options.job_extra_directives: expected a list, found '--exclusive'",
        ),
        ({"scheduler_options": ["host"]}, "cluster.options.scheduler_options: expected a mapping"),
    ],
    ids=["directives-as-text", "scheduler-options-as-list"],
)
def test_ill_typed_slurm_options_are_config_errors(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        SlurmClusterProvider(options)


def test_slurm_without_sbatch_returns_no_client(tmp_path: Path) -> None:
    provider = SlurmClusterProvider(environ={"PATH": str(tmp_path)})

    assert provider.start() == (None, None)
    assert provider.failure == "cannot submit SLURM jobs: 'sbatch' is not on PATH"
