"""The ``rattler`` conda frontend: solve and install a conda prefix with py-rattler.

py-rattler (the library under pixi) reads conda channels, solves and links
packages in-process: no conda binary is needed, and a local channel
(``file://...``) works offline. It runs here as a child process,
``python -m mlops.environment.rattler_env``, for two reasons: the solve holds
gigabytes that a long-lived mlops process should not keep, and py-rattler
sometimes crashes at interpreter exit after an install (SIGSEGV/SIGABRT).
The outcome is therefore the JSON line the child prints before it exits
(``{"success": true, ...}`` or ``{"success": false, "message": ...}``), the
same shape as micromamba's ``--json`` reply; its exit status is only a
fallback.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: The frontend's name in ``environment.conda.frontends``.
NAME = "rattler"
#: Where downloaded packages are kept between builds (rattler's own default otherwise).
CACHE_VARIABLE = "MLOPS_RATTLER_CACHE"


def available() -> bool:
    """py-rattler is importable by this interpreter (the ``conda`` extra installs it)."""
    return importlib.util.find_spec("rattler") is not None


def current_subdir() -> str:
    """This machine's conda platform (``linux-64``, ``osx-arm64``, ``win-64``...)."""
    machine = platform.machine().lower()
    arch = {"x86_64": "64", "amd64": "64", "aarch64": "aarch64", "arm64": "arm64"}.get(
        machine, machine
    )
    system = {"Linux": "linux", "Darwin": "osx", "Windows": "win"}.get(platform.system(), "linux")
    return f"{system}-{arch}"


def create_argv(prefix: Path, specs: Sequence[str], channels: Sequence[str]) -> list[str]:
    """The argv of a child that builds ``prefix`` from ``specs`` on exactly ``channels``."""
    argv = [sys.executable, "-m", "mlops.environment.rattler_env", "--prefix", str(prefix)]
    for channel in channels:
        argv += ["--channel", channel]
    return [*argv, *specs]


def _channel(text: str) -> str:
    """A channel as rattler reads it: a URL, a name (``conda-forge``), or a local folder."""
    path = Path(text).expanduser()
    if "://" not in text and (path.is_absolute() or text.startswith(".")):
        return path.resolve().as_uri()
    return text


async def _build(prefix: Path, specs: Sequence[str], channels: Sequence[str]) -> dict[str, Any]:
    import rattler

    records = await rattler.solve(
        [_channel(c) for c in channels],
        list(specs),
        virtual_packages=rattler.VirtualPackage.detect(),
    )
    cache = os.environ.get(CACHE_VARIABLE)
    await rattler.install(
        records,
        prefix,
        cache_dir=Path(cache) if cache else None,
        show_progress=False,
    )
    return {
        "success": True,
        "prefix": str(prefix),
        "installed": [f"{r.name.normalized}={r.version}={r.build}" for r in records],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlops.environment.rattler_env")
    parser.add_argument("--prefix", type=Path, required=True)
    parser.add_argument("--channel", action="append", default=[])
    parser.add_argument("specs", nargs="+")
    args = parser.parse_args(argv)
    if not args.channel:
        reply: dict[str, Any] = {"success": False, "message": "no channel given"}
    else:
        try:
            import asyncio  # the child alone needs it (14 ms to import)

            reply = asyncio.run(_build(args.prefix.resolve(), args.specs, args.channel))
        except Exception as exc:  # noqa: BLE001 - the reply carries rattler's own message
            reply = {"success": False, "message": " ".join(str(exc).split())}
    sys.stdout.write(json.dumps(reply) + "\n")
    sys.stdout.flush()
    # Leave at once: py-rattler's native threads may crash a normal interpreter exit.
    os._exit(0 if reply["success"] else 1)


if __name__ == "__main__":
    main()


__all__ = ["CACHE_VARIABLE", "NAME", "available", "create_argv", "current_subdir", "main"]
