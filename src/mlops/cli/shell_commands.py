"""``mlops shell NAME`` and ``mlops exec NAME -- CMD ...``: into a project's environment.

A result a process made may need libraries only the project's environment has
(the model's classes, its pickles' modules), and so may a notebook server or a
tool such as ``mlflow ui`` that reads what the runs left. Both commands ensure
the environment (built once per spec, as ``mlops run`` does) and then become
the command inside it: the environment's folders first on PATH, its prefix
variables set as activation would, and ``MLOPS_WORKSPACE_DIR``,
``MLOPS_PROJECT_ID``, ``MLOPS_PROJECT_DIR`` and ``MLOPS_PROJECT_ENV`` (the spec
hash, so an ``mlops run`` started there runs in place); with MLflow tracking, the
store's URI as MLflow's tools read it (``MLFLOW_TRACKING_URI``,
``MLFLOW_BACKEND_STORE_URI``). The command replaces
``mlops`` (:func:`mlops.environment.launch.become`): the terminal, Ctrl-C and
the exit status are its own.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from mlops.cli.state import CliState, accept_global_options, pass_state
from mlops.errors import ConfigError

#: What a shell runs first: ``mlops`` and ``load_result`` ready, and one line saying so.
_SHELL_START = """\
import mlops
from mlops import load_result
print({banner!r})
"""
#: Without a terminal, the script on stdin runs with the same names ready.
_SCRIPT_FROM_STDIN = """\
import sys
import mlops
from mlops import load_result
code = compile(sys.stdin.read(), "<stdin>", "exec")
exec(code, {"__name__": "__main__", "mlops": mlops, "load_result": load_result})
"""


@click.command("shell")
@click.argument("name")
@click.option("--local", is_flag=True, help="Use this interpreter, not the project's environment.")
@pass_state
def shell_command(state: CliState, *, name: str, local: bool) -> int:
    """Python in project NAME's environment, with mlops.load_result ready.

    On a terminal, an interactive Python; otherwise the script on stdin runs
    (`echo "print(load_result('demo', 'fit'))" | mlops shell demo`).
    The exit status is Python's.
    """
    interactive = sys.stdin.isatty()
    python, env, prefix = _project_environment(state, name, local=local)
    if interactive:
        banner = (
            f"mlops shell: project {name}, Python {prefix}; "
            f"load_result({name!r}, PROCESS) reads a result"
        )
        argv = [python, "-i", "-c", _SHELL_START.format(banner=banner)]
    else:
        argv = [python, "-c", _SCRIPT_FROM_STDIN]
    from mlops.environment.launch import become

    return become(argv, env)


@click.command("exec", context_settings={"ignore_unknown_options": True})
@click.argument("name")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.option("--local", is_flag=True, help="Use this interpreter, not the project's environment.")
@pass_state
def exec_command(state: CliState, *, name: str, command: tuple[str, ...], local: bool) -> int:
    """Run COMMAND in project NAME's environment: mlops exec NAME -- CMD [ARGS]...

    The environment's tools come first on PATH (python, jupyter, mlflow...), and
    MLOPS_WORKSPACE_DIR, MLOPS_PROJECT_ID and MLOPS_PROJECT_DIR are set; a project
    tracking with MLflow also gets MLFLOW_TRACKING_URI and MLFLOW_BACKEND_STORE_URI
    (`mlops exec NAME -- mlflow ui` opens its runs). The exit status is the command's.
    """
    _, env, prefix = _project_environment(state, name, local=local)
    program = shutil.which(command[0], path=env.get("PATH"))
    if program is None:
        raise ConfigError(
            f"{command[0]!r} is not a command in the environment of {name} ({prefix}) nor on PATH",
            hint="add it to the project's requirements, or give its path",
        )
    from mlops.environment.launch import become

    return become([program, *command[1:]], env)


def _project_environment(
    state: CliState, name: str, *, local: bool
) -> tuple[str, dict[str, str], Path]:
    """The project's interpreter, the process environment a command gets in it, and the
    environment's folder; the environment is built first unless it exists."""
    from mlops.cli.running import ensure_project_environment
    from mlops.session.platform import MLPlatform

    platform = MLPlatform(state.workspace())
    project = platform.load_project(name)
    verbosity = state.verbosity
    launch = None if local else ensure_project_environment(platform, project, verbosity=verbosity)
    if launch is None:  # this interpreter is the project's (or --local)
        python, env, prefix = sys.executable, dict(os.environ), Path(sys.prefix)
        env["MLOPS_WORKSPACE_DIR"] = str(platform.workspace.root)
    else:
        python, prefix = str(launch.python_path), launch.prefix
        env = launch.environ(os.environ, platform.workspace.root)
    env["MLOPS_PROJECT_ID"] = project.id
    env["MLOPS_PROJECT_DIR"] = str(project.path)
    tracking = project.config.reproducibility.experiment_tracking
    if tracking.backend == "mlflow":
        from mlops.tracking.mlflow_tracker import store_environ

        env.update(store_environ(tracking.parameters, platform.workspace.state_dir))
    return python, env, prefix


for _command in (shell_command, exec_command):
    accept_global_options(_command)


__all__ = ["exec_command", "shell_command"]
