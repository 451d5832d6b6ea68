"""The time records carry: UTC, as ISO 8601 text, written one way everywhere."""

from __future__ import annotations

import datetime as dt
from typing import Literal


def utc_now(timespec: Literal["seconds", "milliseconds"] = "milliseconds") -> str:
    """Now in UTC as ISO 8601 text (``2026-01-02T03:04:05.678+00:00``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec=timespec)


__all__ = ["utc_now"]
