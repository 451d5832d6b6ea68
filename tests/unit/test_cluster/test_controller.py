"""The cluster controller's settings: config section, cluster_config.yaml, command line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from fixtures.projects import ProjectFactory
from mlops.cluster.controller import ClusterController, merge_settings
from mlops.config.schema import ClusterConfig, load_cluster_config
from mlops.errors import ConfigError
from mlops.runtime.request import RunRequest
from mlops.session.platform import MLPlatform

PIPELINE = """
from mlops import process

@process
def only(ctx):
    return 1
"""


def test_the_file_overrides_the_section_key_by_key_and_merges_options_and_env() -> None:
    section = ClusterConfig(
        provider="ansible",
        scheduler_address="tcp://a:1",
        env={"A": "1", "B": "2"},
        passthrough=["TOKEN"],
        options={"min_workers": 2, "connect_timeout": 5},
    )
    file = ClusterConfig.model_validate(
        {"scheduler_address": "tcp://b:2", "env": {"B": "3"}, "passthrough": ["TOKEN", "KEY"],
         "options": {"min_workers": 1}, "required": True}
    )  # fmt: skip

    settings = merge_settings(section, file, sources=("cluster:", "file"))

    assert settings.provider == "ansible"
    assert settings.scheduler_address == "tcp://b:2"
    assert settings.required is True
    assert settings.env == {"A": "1", "B": "3"}
    assert settings.passthrough == ("TOKEN", "KEY")
    assert settings.options.given() == {"min_workers": 1, "connect_timeout": 5}
    assert settings.sources == ("cluster:", "file")


@pytest.mark.parametrize(
    ("provider", "message"),
    [("slurm", "cluster.options.n_workers: unknown key (did you mean 'min_workers'?)"),
     ("local", "cluster.options.cores: unknown key (valid keys here: memory_limit, n_workers")],
    ids=["slurm-from-the-command-line", "local-from-the-command-line"],
)  # fmt: skip
def test_options_are_checked_against_the_provider_once_it_is_settled(
    provider: str, message: str
) -> None:
    # Without a provider in the section, its options cannot be checked when the config loads.
    section = ClusterConfig.model_validate({"options": {"n_workers": 2, "cores": 1}})
    with pytest.raises(ConfigError) as caught:
        merge_settings(section, None, provider=provider)
    assert caught.value.one_line().startswith(message)


def test_the_command_line_wins_over_both() -> None:
    settings = merge_settings(
        ClusterConfig(provider="slurm", scheduler_address="tcp://a:1"),
        ClusterConfig(provider="local"),
        provider="ansible",
        scheduler_address="tcp://cli:9",
    )

    assert (settings.provider, settings.scheduler_address) == ("ansible", "tcp://cli:9")


def test_keys_a_file_leaves_out_keep_the_section_value() -> None:
    settings = merge_settings(
        ClusterConfig(provider="ansible", required=True, code="shared"), ClusterConfig()
    )

    assert (settings.required, settings.code, settings.connect_timeout) == (True, "shared", 10.0)


def test_no_provider_anywhere_is_one_line_with_the_fix() -> None:
    with pytest.raises(
        ConfigError, match=r"cluster.provider: no cluster provider is set \(pass --cluster"
    ):
        merge_settings(ClusterConfig(), None)


def test_a_missing_cluster_file_is_none_and_an_empty_one_is_an_empty_section(
    tmp_path: Path,
) -> None:
    assert load_cluster_config(tmp_path / "absent.yaml") is None
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    assert load_cluster_config(tmp_path / "empty.yaml") == ClusterConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "provider: ansible\nschedular_address: x\n",
            r"c.yaml:2:1: schedular_address: unknown key \(did you mean 'scheduler_address'\?\)",
        ),
        ("provider: kube\n", r"c.yaml:1:1: provider: expected 'local', 'ansible' or 'slurm'"),
        ("connect_timeout: 0\n", r"c.yaml:1:1: connect_timeout: expected a value > 0, found 0"),
        (
            "- provider\n",
            r"c.yaml:1:1: expected a mapping \(provider:, options:, ...\), found a list",
        ),
        ("provider: [\n", r"c.yaml:\d+:\d+: invalid YAML"),
    ],
    ids=["typo", "unknown-provider", "zero-timeout", "a-list", "broken-yaml"],
)
def test_a_bad_cluster_file_is_one_line_with_its_position(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text)

    with pytest.raises(ConfigError, match=message):
        load_cluster_config(path, display="c.yaml")


def test_the_controller_reads_the_projects_cluster_file_and_exports(
    make_project: ProjectFactory, tmp_workspace: Path
) -> None:
    project = make_project(
        "clustered", PIPELINE, "only", extra={"cluster": {"provider": "slurm", "env": {"A": "1"}}}
    )
    (project / "configs" / "cluster_config.yaml").write_text(
        textwrap.dedent(
            """\
            provider: ansible
            scheduler_address: tcp://10.0.0.5:8786
            passthrough: [SITE_TOKEN]
            """
        )
    )
    platform = MLPlatform()

    controller = platform.cluster_controller("clustered")
    controller.environ = {"SITE_TOKEN": "t", "OTHER": "o"}
    exports = controller.exports()

    assert controller.settings.provider == "ansible"
    assert controller.settings.sources == ("cluster:", "clustered/configs/cluster_config.yaml")
    assert exports["MLOPS_PROJECT_ID"] == "clustered"
    assert exports["MLOPS_WORKSPACE_DIR"] == str(tmp_workspace)
    assert exports["MLOPS_PROJECT_DIR"] == str(project)
    assert (exports["A"], exports["SITE_TOKEN"]) == ("1", "t")
    assert "OTHER" not in exports
    provider = controller.provider(exports)
    assert provider.resolve_address() == "tcp://10.0.0.5:8786"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("requested", "configured", "expected"),
    [
        ("threads", "processes", "threads"),
        (None, "processes", "processes"),
        (None, "dask", "sequential"),
        (None, None, "sequential"),
    ],
    ids=["asked", "configured", "configured-dask", "nothing"],
)
def test_a_fallback_runs_on_the_local_executor_asked_for(
    make_project: ProjectFactory, requested: str | None, configured: str | None, expected: str
) -> None:
    make_project(
        "fallback",
        PIPELINE,
        "only",
        extra={"cluster": {"provider": "local"}, "executor": {"type": configured}},
    )
    controller = MLPlatform().cluster_controller("fallback")

    assert controller.fallback_executor(requested) == expected


def test_a_missing_project_is_a_project_error_before_any_cluster_starts(
    tmp_workspace: Path,
) -> None:
    from mlops.errors import ProjectError

    with pytest.raises(ProjectError, match="no project 'ghost'"):
        MLPlatform().cluster_controller("ghost", RunRequest("ghost", cluster="local"))


def test_a_controller_can_be_built_without_a_platform(tmp_path: Path) -> None:
    config_dir = tmp_path / "configs"
    config_dir.mkdir(parents=True)
    from mlops.config.schema import validate_project_config

    config = validate_project_config({"model": {"name": "m", "framework": "custom"}}, "inline")
    controller = ClusterController(
        "p",
        project_dir=tmp_path,
        config=config,
        workspace=tmp_path,
        request=RunRequest("p", cluster="local"),
    )

    assert controller.settings.provider == "local"
    assert controller.provider().remote is False
