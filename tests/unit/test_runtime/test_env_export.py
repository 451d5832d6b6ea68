"""The variables a run exports to its workers, as data, shell lines and applied to an environ."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlops.errors import ConfigError
from mlops.runtime import env_export
from mlops.runtime.context import RuntimeContext, activated, current
from mlops.runtime.workspace import WORKSPACE_ENV_VAR


def exported(**overrides: Any) -> dict[str, str]:
    project = env_export.WorkerProject(
        Path("/ws"),
        "demo",
        Path("/ws/projects/demo"),
        kv=overrides.pop("kv", None),
        objects=overrides.pop("objects", None),
    )
    return env_export.worker_environment(project, **{"environ": {}, **overrides})


def test_the_workspace_variable_is_the_one_workspaces_are_resolved_from() -> None:
    assert env_export.WORKSPACE_VAR == WORKSPACE_ENV_VAR


def test_a_run_exports_its_project_its_stores_and_the_store_endpoints_it_uses() -> None:
    variables = exported(
        kv={"backend": "redis", "url": "redis://cache:6379/0"},
        objects={"backend": "local"},
        environ={"REDIS_URL": "redis://x:1/0", "HOME": "/root", "SECRET": "s"},
    )

    assert variables == {
        "MLOPS_WORKSPACE_DIR": "/ws",
        "MLOPS_PROJECT_ID": "demo",
        "MLOPS_PROJECT_DIR": "/ws/projects/demo",
        "MLOPS_EXECUTION": "cluster",
        "MLOPS_KV_CONFIG": '{"backend": "redis", "url": "redis://cache:6379/0"}',
        "MLOPS_OBJECTS_CONFIG": '{"backend": "local"}',
        "REDIS_URL": "redis://x:1/0",
    }


def test_passthrough_copies_what_is_set_and_env_wins_over_everything() -> None:
    variables = exported(
        environ={"SITE_NAME": "t", "REDIS_URL": "redis://a"},
        passthrough=["SITE_NAME", "ABSENT"],
        extra={"REDIS_URL": "redis://b", "THREADS": 4, "DEBUG": True, "RATE": 0.5},
    )

    assert variables["SITE_NAME"] == "t"
    assert "ABSENT" not in variables
    assert variables["REDIS_URL"] == "redis://b"
    assert (variables["THREADS"], variables["DEBUG"], variables["RATE"]) == ("4", "1", "0.5")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"passthrough": ["1BAD"]}, "cluster.passthrough: '1BAD' is not an environment variable"),
        ({"extra": {"A-B": "x"}}, "cluster.env: 'A-B' is not an environment variable name"),
        ({"extra": {"LIST": [1]}}, "cluster.env.LIST: expected a string, number or boolean"),
        ({"extra": {"NONE": None}}, "cluster.env.NONE: expected a string, number or boolean"),
    ],
    ids=["digit-first", "dash", "list-value", "null-value"],
)
def test_bad_names_and_values_are_one_line_naming_the_key(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        exported(**options)


def test_from_shell_ignores_lines_that_are_not_exports() -> None:
    assert env_export.from_shell(["echo hi", "export", "export A=1", "# export B=2"]) == {"A": "1"}


def test_apply_sets_and_restore_puts_back_set_and_unset_values() -> None:
    environ = {"KEEP": "k", "CHANGE": "old"}

    restore = env_export.apply({"CHANGE": "new", "ADDED": "a"}, environ)
    assert environ == {"KEEP": "k", "CHANGE": "new", "ADDED": "a"}
    restore()

    assert environ == {"KEEP": "k", "CHANGE": "old"}


@pytest.mark.parametrize(
    ("text", "message"),
    [("{nope", "not valid JSON"), ("[1, 2]", "expected a JSON object, found list")],
    ids=["broken", "not-an-object"],
)
def test_a_bad_exported_store_config_is_a_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        env_export.config_from({"MLOPS_KV_CONFIG": text}, "MLOPS_KV_CONFIG")


# ------------------------------------------------------------------ runtime context


def test_a_worker_rebuilds_the_context_from_what_the_run_exported() -> None:
    variables = exported(kv={"backend": "sqlite"})

    context = RuntimeContext.from_environ(variables)

    assert context.project_id == "demo"
    assert context.workspace == Path("/ws")
    assert context.project_dir == Path("/ws/projects/demo")
    assert context.on_cluster
    assert context.kv_config == {"backend": "sqlite"}
    assert context.objects_config is None


def test_without_exported_variables_the_context_is_local_and_empty() -> None:
    context = RuntimeContext.from_environ({"MLOPS_EXECUTION": "somewhere"})

    assert context == RuntimeContext()
    assert not context.on_cluster


def test_the_active_context_wins_over_the_environment_and_is_reset_after() -> None:
    environ = exported()
    driver = RuntimeContext(project_id="driver", execution="cluster", provider="local")

    with activated(driver):
        assert current(environ) is driver
    assert current(environ).project_id == "demo"


def test_the_record_of_a_context_says_which_path_ran() -> None:
    context = RuntimeContext(
        execution="local", provider="ansible", scheduler="tcp://h:1", details={"fallback": "down"}
    )

    assert context.as_record() == {
        "path": "local",
        "provider": "ansible",
        "scheduler": "tcp://h:1",
        "fallback": "down",
    }
    assert json.loads(json.dumps(context.as_record())) == context.as_record()


def test_an_unknown_execution_path_is_refused() -> None:
    with pytest.raises(ValueError, match="execution must be one of"):
        RuntimeContext(execution="moon")
