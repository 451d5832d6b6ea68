"""A loaded project: what a run derives from its config, aliases folded once."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.config.schema import validate_project_config
from mlops.managers.loaded_project import LoadedProject


def loaded(storage: dict[str, object]) -> LoadedProject:
    config = validate_project_config({"model": {"name": "m"}, "storage": storage}, "c.yaml")
    return LoadedProject("proj", Path("/nowhere/proj"), config, "c.yaml")


@pytest.mark.parametrize(
    ("storage", "kv", "objects", "extras"),
    [
        (
            {"kv": {"backend": "Firestore"}, "objects": {"backend": " GS ", "bucket": "b"}},
            "gcp",
            "gcs",
            ["gcp"],
        ),
        ({"kv": {"backend": "mem"}, "objects": {"backend": "fs"}}, "memory", "local", []),
        ({"kv": {"backend": "REDIS"}}, "redis", "local", ["redis"]),
    ],
    ids=["google", "memory-and-files", "redis"],
)
def test_backend_aliases_are_folded_when_the_config_loads(
    storage: dict[str, object], kv: str, objects: str, extras: list[str]
) -> None:
    project = loaded(storage)
    assert project.kv_settings is not None
    assert (project.kv_settings["backend"], project.object_settings["backend"]) == (kv, objects)
    assert project.runtime_extras == extras


def test_object_settings_are_scoped_to_the_project() -> None:
    assert loaded({}).object_settings == {"backend": "local", "root": "objects/proj"}
    gcs = loaded({"objects": {"backend": "gs", "bucket": "b", "prefix": "/team/"}})
    assert (gcs.object_settings["backend"], gcs.object_settings["prefix"]) == ("gcs", "team/proj")
