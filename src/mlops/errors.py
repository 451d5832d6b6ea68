"""The error tree shared by every layer.

Every error a user can cause is an :class:`MlopsError`. The CLI maps it to one
line on stderr and :attr:`MlopsError.exit_code`; nothing above this module
needs to know which third-party exception started it, because adapters
translate at the boundary (``raise StorageError(...) from exc``).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit statuses of the ``mlops`` command."""

    OK = 0
    RUN_FAILED = 1
    USAGE = 2
    #: A bug in mlops (an exception no layer translated): sysexits' EX_SOFTWARE.
    INTERNAL = 70
    #: Stopped by a signal, as shells report 128 + the signal number: SIGHUP (the
    #: terminal closed), SIGINT (Ctrl-C), SIGTERM (``kill``, a scheduler's stop).
    HANGUP = 129
    INTERRUPTED = 130
    TERMINATED = 143


class MlopsError(Exception):
    """Base of every error mlops raises on purpose.

    ``hint`` tells the user how to fix the problem; it is appended to the
    message so the one-line report always carries it.
    """

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message and its hint as a single line, ready for stderr."""
        text = " ".join(self.message.split())
        if self.hint:
            text = f"{text} ({' '.join(self.hint.split())})"
        return text


class ConfigError(MlopsError):
    """A configuration file, key or value is invalid."""


class WorkspaceError(MlopsError):
    """The workspace location is unusable."""


class ProjectError(MlopsError):
    """A project is missing, already exists, or its id is invalid."""


class GraphError(MlopsError):
    """The pipeline graph is invalid: a cycle, an unknown process, an empty graph."""


class EnvSetupError(MlopsError):
    """An environment could not be found, built or used."""


class StorageError(MlopsError):
    """A key-value or object store operation failed."""


class ExecutionError(MlopsError):
    """A pipeline run failed while executing processes."""

    exit_code = ExitCode.RUN_FAILED


class ClusterError(MlopsError):
    """A required cluster could not be started or reached (fix its address or config)."""


#: The optional extra that installs each module a command may import on demand.
EXTRA_OF_MODULE = {
    "redis": "redis",
    "google": "gcp",
    "dask_jobqueue": "cluster",
    "sklearn": "sklearn",
    "pandas": "sklearn",
    "matplotlib": "sklearn",
    "mlflow": "mlflow",
    "sqlalchemy": "mlflow",
    "alembic": "mlflow",
    "optuna": "optuna",
}


def translate(exc: BaseException) -> MlopsError:
    """The one-line error for an exception that reached the command line untranslated.

    A missing optional package names the extra that installs it; the operating
    system's refusals (a name too long, no space, no permission) and input too
    deep to walk are the user's to fix (exit 2); anything else is a bug in
    mlops (exit 70), reported in one line that says how to see more.
    """
    if isinstance(exc, MlopsError):
        return exc
    error: MlopsError
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        top = exc.name.split(".", 1)[0]
        extra = EXTRA_OF_MODULE.get(top)
        error = EnvSetupError(
            f"this needs the Python package {top!r}, which is not installed",
            hint=f"pip install 'mlops[{extra}]'" if extra else f"pip install {top}",
        )
    elif isinstance(exc, UnicodeError):
        error = ConfigError(f"not UTF-8 text: {exc}", hint="save the file as UTF-8")
    elif isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        error = WorkspaceError(f"{where}{exc.strerror or exc}")
    elif isinstance(exc, RecursionError):
        error = ConfigError("the input is nested too deeply", hint="flatten it")
    elif isinstance(exc, MemoryError):
        error = MlopsError("out of memory", hint="give the command less data or more memory")
    else:
        error = InternalError(
            f"internal error: {type(exc).__name__}: {exc}",
            hint="`mlops --debug ...` shows the traceback; please report it",
        )
    return error


class InternalError(MlopsError):
    """An exception no layer translated: a bug in mlops."""

    exit_code = ExitCode.INTERNAL


__all__ = [
    "EXTRA_OF_MODULE",
    "ClusterError",
    "ConfigError",
    "EnvSetupError",
    "ExecutionError",
    "ExitCode",
    "GraphError",
    "InternalError",
    "MlopsError",
    "ProjectError",
    "StorageError",
    "WorkspaceError",
    "translate",
]
