"""How a run speaks on a terminal or in a job log: warnings as one line each."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO


@contextlib.contextmanager
def warnings_as_lines(stream: TextIO) -> Iterator[None]:
    """Show each warning once, on one line of ``stream``.

    mlops' own warnings (their category is defined in mlops, or mlops' code
    issued them) read ``mlops: warning: <message>``. Other libraries' warnings
    read ``warning (<library>): <message>``, and their deprecation notices
    (``DeprecationWarning``, ``PendingDeprecationWarning``, ``FutureWarning``)
    are left out: they are for that library's developers, not for a run.
    Dask's own warnings (ports in use, memory) are about Dask, not the run,
    and are left out too.
    """

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        text = " ".join(str(message).split())
        ours = category.__module__.startswith("mlops") or _in_mlops(filename)
        if not ours and issubclass(category, _DEPRECATIONS):
            return
        where = "mlops: warning" if ours else f"warning ({_library(filename)})"
        stream.write(f"{where}: {text}\n")
        stream.flush()

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.filterwarnings("ignore", module="distributed")
        previous, warnings.showwarning = warnings.showwarning, show
        try:
            yield
        finally:
            warnings.showwarning = previous


_DEPRECATIONS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)
_MLOPS_DIR = Path(__file__).resolve().parents[1]


def _in_mlops(filename: str) -> bool:
    try:
        return Path(filename).resolve().is_relative_to(_MLOPS_DIR)
    except (OSError, ValueError):
        return False


def _library(filename: str) -> str:
    """The top-level package a file belongs to (``site-packages/sklearn/x.py``: sklearn)."""
    parts = Path(filename).parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts and parts.index(marker) + 1 < len(parts):
            return Path(parts[parts.index(marker) + 1]).stem
    return Path(filename).stem


__all__ = ["warnings_as_lines"]
