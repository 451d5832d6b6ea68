"""The ``mlops`` console script's module (``mlops.main:main``, ``python -m mlops.main``).

The command line itself is :mod:`mlops.cli`; this module gives its entry point
and the command names the platform's spec, batch scripts and users' tests
import from here.
"""

from __future__ import annotations

import sys

from mlops.cli.app import cli, main
from mlops.cli.project_commands import (
    config_command,
    create_command,
    delete_command,
    list_command,
)
from mlops.cli.run_commands import run_command

# The command names the platform's spec and its users' tests import.
create_project_command = create_command
delete_project_command = delete_command
list_projects_command = list_command
run_project_command = run_command
config_project_command = config_command

__all__ = [
    "cli",
    "config_project_command",
    "create_project_command",
    "delete_project_command",
    "list_projects_command",
    "main",
    "run_project_command",
]

if __name__ == "__main__":
    sys.exit(main())
