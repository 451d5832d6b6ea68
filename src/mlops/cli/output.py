"""How the command line prints what it found: key/value blocks, tables, sizes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mlops.managers.project_manager import ProjectInfo


def echo_info(info: ProjectInfo, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(info.to_json(), indent=2))
        return
    rows = {
        "project": info.id,
        "path": str(info.path),
        "framework": info.framework or "-",
        "template": info.template or "-",
        "created": info.created_at or "-",
        "config": "valid" if info.valid else f"INVALID: {info.problem}",
    }
    width = max(map(len, rows))
    for key, value in rows.items():
        click.echo(f"{key.ljust(width)}  {value}")


def echo_table(rows: list[list[str]]) -> None:
    """Rows as left-aligned columns, the first row being the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


__all__ = ["echo_info", "echo_table", "human_size"]
