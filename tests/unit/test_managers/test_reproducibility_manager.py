from __future__ import annotations

import os
import random
import sys

from mlops.config.schema import ReproducibilityConfig
from mlops.managers.reproducibility_manager import ReproducibilityManager


def test_the_same_seed_gives_the_same_draws() -> None:
    manager = ReproducibilityManager(ReproducibilityConfig(random_seed=123))
    report = manager.apply_seed()
    first = [random.random() for _ in range(3)]  # noqa: S311 - reproducibility, not secrets
    manager.apply_seed()
    assert [random.random() for _ in range(3)] == first  # noqa: S311
    assert report.seed == 123
    assert report.seeded[0] == "random"


def test_numpy_is_seeded_when_installed() -> None:
    import numpy as np

    manager = ReproducibilityManager(ReproducibilityConfig(random_seed=7))
    assert "numpy" in manager.apply_seed().seeded
    first = np.random.rand(3).tolist()
    manager.apply_seed()
    assert np.random.rand(3).tolist() == first


def test_no_seed_seeds_nothing() -> None:
    manager = ReproducibilityManager(ReproducibilityConfig(random_seed=None))
    assert manager.apply_seed().seeded == ()
    assert manager.child_environment() == {}


def test_the_environment_record_names_interpreter_and_packages() -> None:
    record = ReproducibilityManager().environment_record()
    assert record["seed"] == 42
    assert record["python"] == ".".join(map(str, sys.version_info[:3]))
    assert record["executable"] == sys.executable
    uname = os.uname()
    assert record["platform"].startswith(f"{uname.sysname}-{uname.release}-{uname.machine}")
    assert "mlops" in record["packages"]
    assert "pydantic" in record["packages"]


def test_the_recorded_packages_are_what_the_full_metadata_says() -> None:
    from importlib import metadata

    recorded = ReproducibilityManager().environment_record()["packages"]
    parsed = {d.metadata["Name"]: d.version for d in metadata.distributions() if d.metadata["Name"]}
    assert recorded == parsed
    assert list(recorded) == sorted(recorded, key=str.lower)
