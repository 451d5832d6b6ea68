"""Serving files from inside the workspace, and nothing else.

Every path a request names is resolved (symlinks followed) and must stay
under the folder it is served from. ``..`` segments, percent-encoded
traversal (``%2e%2e``, ``%2f``), absolute paths, backslashes, NUL bytes and
symlinks pointing out are all refused the same way: a 404, so a probe learns
nothing about what exists outside. So is a path no file system could hold (a
segment over 255 bytes, over 4 KiB in all).
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

MEDIA_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".json": "application/json",
    ".csv": "text/csv",
    ".txt": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".yaml": "text/plain; charset=utf-8",
    ".yml": "text/plain; charset=utf-8",
}


class OutsideError(LookupError):
    """The path is not a file under the served folder."""


# Limits of Linux file systems (NAME_MAX, PATH_MAX): a longer path names no file,
# and asking the OS about it would fail with ENAMETOOLONG instead of "not found".
MAX_SEGMENT_BYTES = 255
MAX_PATH_BYTES = 4096


def contained_file(root: Path, relative: str) -> Path:
    """The file ``relative`` names under ``root``; OutsideError for anything else."""
    text = relative
    for _ in range(3):  # undo double encoding too: %252e -> %2e -> .
        decoded = urllib.parse.unquote(text)
        if decoded == text:
            break
        text = decoded
    if not text or "\x00" in text or "\\" in text or text.startswith("/"):
        raise OutsideError(relative)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise OutsideError(relative)
    parts = text.split("/")
    if any(part in ("", ".", "..") for part in parts) or ":" in parts[0]:
        raise OutsideError(relative)
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_SEGMENT_BYTES for part in parts):
        raise OutsideError(relative)
    base = root.resolve()
    try:
        target = (base / text).resolve()
        found = target.is_relative_to(base) and target.is_file()
    except (OSError, ValueError):  # a loop of symlinks, or a name the OS refuses
        raise OutsideError(relative) from None
    if not found:
        raise OutsideError(relative)
    return target


def is_inside(path: Path, root: Path) -> bool:
    """``path`` (symlinks followed) is a file under ``root``."""
    try:
        resolved = path.resolve()
    except OSError:
        return False
    return resolved.is_relative_to(root.resolve()) and resolved.is_file()


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


__all__ = ["MEDIA_TYPES", "OutsideError", "contained_file", "is_inside", "media_type"]
