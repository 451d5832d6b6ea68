"""How a run speaks on a terminal or in a job log: warnings as one line each."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any, TextIO


@contextlib.contextmanager
def warnings_as_lines(stream: TextIO) -> Iterator[None]:
    """Show each warning as ``mlops: warning: <message>`` on ``stream``, once.

    Dask's own warnings (ports in use, memory) are about Dask, not the run, and
    are left out.
    """

    def show(message: Warning | str, *args: Any, **kwargs: Any) -> None:
        text = " ".join(str(message).split())
        stream.write(f"mlops: warning: {text}\n")
        stream.flush()

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.filterwarnings("ignore", module="distributed")
        previous, warnings.showwarning = warnings.showwarning, show
        try:
            yield
        finally:
            warnings.showwarning = previous


__all__ = ["warnings_as_lines"]
