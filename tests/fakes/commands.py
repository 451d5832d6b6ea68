"""A CommandRunner that records every command and answers from a script.

``RecordingRunner(tools={"uv": "/usr/bin/uv"})`` says which executables exist;
``reply(prefix, stdout=..., returncode=..., effect=...)`` scripts the answer to
any argv starting with ``prefix`` (the last matching script wins); ``effect``
runs with the argv so a fake command can lay out files as the real one would.
Unscripted commands succeed with no output. ``calls`` holds (argv, env, cwd)
as data, for assertions on structure rather than substrings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlops.environment.utils import CommandFailed, CommandResult


@dataclass(frozen=True)
class Call:
    argv: tuple[str, ...]
    env: dict[str, str]
    cwd: Path | None


@dataclass
class _Reply:
    prefix: tuple[str, ...]
    stdout: str
    stderr: str
    returncode: int
    effect: Callable[[tuple[str, ...]], None] | None


@dataclass
class RecordingRunner:
    tools: dict[str, str] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    _replies: list[_Reply] = field(default_factory=list)

    def reply(
        self,
        *prefix: str,
        stdout: str = "",
        stderr: str = "",
        returncode: int = 0,
        effect: Callable[[tuple[str, ...]], None] | None = None,
    ) -> None:
        self._replies.append(_Reply(tuple(prefix), stdout, stderr, returncode, effect))

    def run(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
        on_line: Callable[[str], None] | None = None,
    ) -> CommandResult:
        command = tuple(str(a) for a in argv)
        self.calls.append(Call(command, dict(env or {}), cwd))
        for reply in reversed(self._replies):
            if command[: len(reply.prefix)] == reply.prefix:
                if reply.effect is not None:
                    reply.effect(command)
                if on_line is not None:  # as the real runner streams them (out, then err here)
                    for line in (reply.stdout + reply.stderr).splitlines():
                        if line.strip():
                            on_line(line)
                if reply.returncode != 0:
                    raise CommandFailed(command, reply.returncode, reply.stdout, reply.stderr)
                return CommandResult(command, 0, reply.stdout, reply.stderr)
        return CommandResult(command, 0)

    def which(self, name: str, env: Mapping[str, str] | None = None) -> str | None:
        return self.tools.get(name)

    def argvs(self) -> list[tuple[str, ...]]:
        return [call.argv for call in self.calls]
