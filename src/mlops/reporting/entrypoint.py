"""``python -m mlops.reporting.entrypoint --project P [--run R]``: ``mlops charts render``
under the name older scripts use.

Nothing of mlops imports this module: its :func:`main` runs the command line,
the top layer, as a console script does (the one upward import, declared in
the import contracts). Rendering itself is :mod:`mlops.reporting.rendering`,
whose names are here too under the names the platform's spec gives them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from mlops.reporting.rendering import ChartJob, ChartWarning, chart_spec_for, render_charts


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mlops.reporting.entrypoint --project P [--run R]``: ``mlops charts render``.

    This package sits below the command line; this entry point alone reaches up
    to it, as a console script does (declared in the import contract).
    """
    from mlops.main import main as command_line

    return command_line(["charts", "render", *(sys.argv[1:] if argv is None else argv)])


__all__ = ["ChartJob", "ChartWarning", "chart_spec_for", "main", "render_charts"]

if __name__ == "__main__":  # pragma: no cover - exercised as a subprocess
    sys.exit(main())
