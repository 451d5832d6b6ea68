"""The ``mlops`` console script's module (``mlops.main:main``, ``python -m mlops.main``).

The command line itself is :mod:`mlops.cli`; this module gives its entry point
and the command names the platform's spec, batch scripts and users' tests
import from here.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

from mlops.cli.app import COMMANDS, cli, main

# The command names the platform's spec and its users' tests import, each found when
# first asked for (the console script imports this module, and no command up front).
_SPEC_NAMES = {
    "create_project_command": "create",
    "delete_project_command": "delete",
    "list_projects_command": "list",
    "run_project_command": "run",
    "config_project_command": "config",
}


def __getattr__(name: str) -> Any:
    command = _SPEC_NAMES.get(name)
    if command is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, _, attribute = COMMANDS[command].partition(":")
    return getattr(importlib.import_module(module), attribute)


__all__ = [
    "cli",
    "config_project_command",  # noqa: F822 - module __getattr__
    "create_project_command",  # noqa: F822 - module __getattr__
    "delete_project_command",  # noqa: F822 - module __getattr__
    "list_projects_command",  # noqa: F822 - module __getattr__
    "main",
    "run_project_command",  # noqa: F822 - module __getattr__
]

if __name__ == "__main__":
    sys.exit(main())
