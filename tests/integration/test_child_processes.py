"""What child processes inherit: a fixed hash seed and shell-safe exports."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlops.config.schema import ReproducibilityConfig
from mlops.managers.reproducibility_manager import ReproducibilityManager
from mlops.runtime import env_export

pytestmark = pytest.mark.slow


def test_children_get_a_fixed_hash_seed() -> None:
    env = ReproducibilityManager(ReproducibilityConfig(random_seed=5)).child_environment()
    program = "print(hash('mlops'))"
    runs = [
        subprocess.run(
            [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
        ).stdout
        for _ in range(2)
    ]
    assert env == {"PYTHONHASHSEED": "5"}
    assert runs[0] == runs[1]


def test_shell_lines_survive_a_real_shell_and_parse_back() -> None:
    variables = {"PLAIN": "x", "SPACES": "a b  c", "QUOTES": 'it\'s "q"', "DOLLAR": "$HOME;rm"}
    lines = env_export.to_shell(variables)

    assert lines == sorted(lines)
    assert env_export.from_shell(lines) == variables
    script = "\n".join([*lines, 'printf "%s|%s|%s|%s" "$PLAIN" "$SPACES" "$QUOTES" "$DOLLAR"'])
    printed = subprocess.run(
        ["/bin/sh", "-c", script], capture_output=True, text=True, check=True, env={}
    ).stdout
    assert printed == 'x|a b  c|it\'s "q"|$HOME;rm'
