"""Reading and writing the user's YAML: comments, key order and positions kept.

Config files are read with ruamel's round-trip loader, so a rewrite keeps the
user's comments and layout and every node knows its line and column (for
error messages); :func:`plain_data` turns the nodes into plain data for
validation.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError

from mlops.errors import ConfigError


def yaml_round_trip() -> YAML:
    """The YAML codec for user files: keeps comments, key order and quoting on rewrite."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def dump_yaml(data: Any) -> str:
    """YAML text for data loaded by :func:`parse_yaml` (or plain data), comments kept."""
    buffer = io.StringIO()
    yaml_round_trip().dump(data, buffer)
    return buffer.getvalue()


def parse_scalar(text: str) -> Any:
    """A value typed on the command line, read as YAML (``1`` int, ``[a, b]`` list, ``x`` str)."""
    return YAML(typ="safe", pure=True).load(text)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text; a syntax error becomes ``source:line:col: invalid YAML: ...``."""
    try:
        return yaml_round_trip().load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        raise ConfigError(
            f"{where}: invalid YAML: {problem}",
            hint="check the indentation and the ':' after each key there",
        ) from exc


def plain_data(value: Any) -> Any:
    """Round-trip YAML nodes as plain dicts, lists and scalars (for pydantic and JSON)."""
    if isinstance(value, Mapping):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    if hasattr(value, "value") and type(value).__module__.startswith("ruamel"):
        return value.value  # ruamel scalar wrappers (quoted strings, tagged scalars)
    return value


__all__ = ["dump_yaml", "parse_scalar", "parse_yaml", "plain_data", "yaml_round_trip"]
