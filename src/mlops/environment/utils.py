"""The one seam every external command goes through: :class:`CommandRunner`.

Managers describe a command as an argv list, an explicit environment and a
working directory; they never build shell strings and never "activate" an
environment (its ``bin`` folders are put first on ``PATH`` instead, see
:func:`mlops.environment.prefixes.environ_with_paths`). Tests swap in a
recording runner with scripted replies and assert on argv and env as data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from mlops.errors import EnvSetupError

# How much of a failed command's output an error message carries.
_TAIL_CHARS = 2000


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str = ""
    stderr: str = ""


class CommandFailed(EnvSetupError):  # noqa: N818 - the name DESIGN.md gives the seam
    """A command exited non-zero (or could not start); carries everything to diagnose it."""

    def __init__(
        self, argv: Sequence[str], returncode: int, stdout: str = "", stderr: str = ""
    ) -> None:
        self.argv = tuple(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        last = _last_line(stderr) or _last_line(stdout) or "no output"
        super().__init__(f"`{' '.join(self.argv)}` exited with status {returncode}: {last}")

    @property
    def output_tail(self) -> str:
        return (self.stdout + self.stderr)[-_TAIL_CHARS:]


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


@runtime_checkable
class CommandRunner(Protocol):
    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> CommandResult:
        """Run ``argv``; a non-zero exit raises :class:`CommandFailed`.

        ``on_line`` is told each line of output (stdout or stderr, without its
        newline) as the command prints it, for live progress; the result holds
        all of it either way.
        """
        ...

    def which(self, name: str, env: Mapping[str, str] | None = None) -> str | None:
        """The executable ``name`` resolves to on ``env``'s PATH (None when absent)."""
        ...


@dataclass
class SubprocessRunner:
    """The real runner: :func:`subprocess.run` on argv lists, output captured as text."""

    #: Default timeout of a command, in seconds (None: wait as long as it takes).
    timeout: float | None = None
    #: Variables every command gets on top of the caller's environment.
    extra_env: Mapping[str, str] = field(default_factory=dict)

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> CommandResult:
        command = [str(part) for part in argv]
        environ = {**(os.environ if env is None else env), **self.extra_env}
        if command and command[0] == "uv" and not shutil.which("uv", path=environ.get("PATH")):
            command[0] = bundled_uv() or "uv"
        limit = timeout if timeout is not None else self.timeout
        try:
            if on_line is None:
                completed = subprocess.run(
                    command, env=environ, cwd=cwd, capture_output=True, text=True,
                    timeout=limit, check=False, stdin=subprocess.DEVNULL,
                )  # fmt: skip
                returncode, stdout, stderr = (
                    completed.returncode,
                    completed.stdout,
                    completed.stderr,
                )
            else:
                returncode, stdout, stderr = _streamed(command, environ, cwd, limit, on_line)
        except FileNotFoundError as exc:
            raise CommandFailed(command, 127, "", f"{command[0]}: command not found") from exc
        except subprocess.TimeoutExpired as exc:
            raise CommandFailed(
                command, -1, _text(exc.stdout), f"timed out after {exc.timeout:g} s"
            ) from exc
        if returncode != 0:
            raise CommandFailed(command, returncode, stdout, stderr)
        return CommandResult(tuple(command), returncode, stdout, stderr)

    def which(self, name: str, env: Mapping[str, str] | None = None) -> str | None:
        path = (os.environ if env is None else env).get("PATH")
        found = shutil.which(name, path=path)
        return bundled_uv() if found is None and name == "uv" else found


def bundled_uv() -> str | None:
    """The uv binary installed with mlops (the ``uv`` wheel, a dependency), or None.

    A uv on PATH wins (the user's choice, maybe newer); without one, environments
    are still built with uv rather than falling back to venv + pip, which is
    tens of times slower on a first build.
    """
    try:
        from uv import find_uv_bin
    except ImportError:
        return None
    try:
        return str(find_uv_bin())
    except FileNotFoundError:
        return None


def _streamed(
    command: list[str],
    environ: Mapping[str, str],
    cwd: Path | None,
    timeout: float | None,
    on_line: Callable[[str], None],
) -> tuple[int, str, str]:
    """Run ``command``, telling ``on_line`` each output line as it comes; (status, out, err)."""
    captured: dict[str, list[str]] = {"out": [], "err": []}

    def pump(stream: IO[str], into: list[str]) -> None:
        for line in stream:  # both pipes drained at once: neither can fill and block
            into.append(line)
            text = line.rstrip("\r\n")
            if text.strip():
                on_line(text)

    with subprocess.Popen(
        command, env=environ, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, errors="replace", bufsize=1,
    ) as child:  # fmt: skip
        streams = [(child.stdout, captured["out"]), (child.stderr, captured["err"])]
        readers = [
            threading.Thread(target=pump, args=(stream, into), daemon=True)
            for stream, into in streams
            if stream is not None  # always piped above
        ]
        for reader in readers:
            reader.start()
        try:
            returncode = child.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            raise
        finally:
            for reader in readers:
                reader.join(timeout=5)
    return returncode, "".join(captured["out"]), "".join(captured["err"])


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


__all__ = ["CommandFailed", "CommandResult", "CommandRunner", "SubprocessRunner", "bundled_uv"]
