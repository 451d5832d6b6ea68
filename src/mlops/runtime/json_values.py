"""Config values as JSON: in the records people read, and exactly, to another interpreter.

YAML gives a config more kinds of value than JSON holds: dates and timestamps,
bytes (``!!binary``), sets (``!!set``), pairs, and the floats JSON refuses
(``.nan``, ``.inf``, ``1e309``). A process receives them as the Python values
they are, and its cache key hashes them with their type (a date and the string
of its ISO form are different keys). Everything written as JSON takes one of
two forms made here:

- :func:`record_value`, for records: run summaries, a process's parameters,
  the trackers' params. Dates and timestamps as ISO text, bytes as their
  ``repr``, sets as sorted lists, the floats JSON refuses as ``"nan"``,
  ``"inf"`` and ``"-inf"``. Readable, and equal for equal values, so runs
  compare; not meant to be read back as the original value.
- :func:`to_json` / :func:`from_json`, exact: the ``--set`` values a run
  request carries into a project's environment. Each value JSON lacks is an
  object with one ``$`` key naming its kind (``{"$date": "2020-01-01"}``); a
  mapping of the user's own that looks like one is wrapped (``{"$map": ...}``),
  so every value decodes to what was encoded.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any, TypeAlias

from mlops.errors import ConfigError

JSONValue: TypeAlias = dict[str, Any] | list[Any] | str | int | float | bool | None

_SCALARS = (str, int, bool, type(None))


def record_value(value: Any) -> JSONValue:  # noqa: PLR0911 - one return per kind of value
    """``value`` as it is recorded: JSON that shows it, for any value (never raises)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _float_name(value)
    if isinstance(value, bool | str | type(None)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): record_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [record_value(v) for v in value]
    if isinstance(value, set | frozenset):
        members = [record_value(v) for v in value]
        return sorted(members, key=lambda m: json.dumps(m, sort_keys=True))
    return repr(value)


def record_params(params: Mapping[str, Any]) -> dict[str, JSONValue]:
    """Parameters as recorded (see :func:`record_value`): every key kept, as text."""
    return {str(key): record_value(value) for key, value in params.items()}


def _float_name(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return "inf" if value > 0 else "-inf"


# -------------------------------------------------------------- as YAML text


def yaml_text(value: Any) -> str:  # noqa: PLR0911 - one return per kind of value
    """``value`` as YAML flow text that reads back as an equal value of its type: what a
    ``--set KEY=VALUE`` argument holds for it."""
    if isinstance(value, float) and not math.isfinite(value):
        return {"nan": ".nan", "inf": ".inf", "-inf": "-.inf"}[_float_name(value)]
    if isinstance(value, bool | int | float | str | type(None)):
        return json.dumps(value)  # JSON's scalars are YAML's, quoted strings included
    if isinstance(value, dt.date):  # datetime is a date: both in ISO form, unquoted
        return value.isoformat()
    if isinstance(value, bytes):
        return f"!!binary {base64.b64encode(value).decode('ascii')}"
    if isinstance(value, set | frozenset):
        return "!!set {" + ", ".join(sorted(yaml_text(v) for v in value)) + "}"
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k))}: {yaml_text(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(yaml_text(v) for v in value) + "]"
    raise ConfigError(f"{value!r} cannot be written as a YAML value")


# -------------------------------------------------------------- exact


def to_json(value: Any) -> JSONValue:  # noqa: PLR0911 - one return per kind of value
    """``value`` as JSON that :func:`from_json` turns back into an equal value of its type.

    Raises ConfigError for a value YAML cannot give (an object of a class of
    the program's own): it cannot be sent to another interpreter.
    """
    if isinstance(value, bool | str | type(None)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else {"$float": _float_name(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    if isinstance(value, list):
        return [to_json(v) for v in value]
    if isinstance(value, tuple):
        return {"$tuple": [to_json(v) for v in value]}
    if isinstance(value, set | frozenset):
        return {"$set": [to_json(v) for v in value]}
    if isinstance(value, Mapping):
        encoded = {str(k): to_json(v) for k, v in value.items()}
        looks_tagged = len(encoded) == 1 and next(iter(encoded)).startswith("$")
        return {"$map": encoded} if looks_tagged else encoded
    raise ConfigError(f"{value!r} cannot be sent to another process (not a YAML value)")


def from_json(value: JSONValue) -> Any:
    """The value :func:`to_json` encoded; a malformed tag is a ConfigError."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, payload),) = value.items()
        if tag.startswith("$"):
            return _decode_tagged(tag, payload)
    return {k: from_json(v) for k, v in value.items()}


_DECODERS: dict[str, Any] = {
    "$map": lambda payload: {k: from_json(v) for k, v in dict(payload).items()},
    "$float": lambda payload: float(str(payload)),
    "$datetime": lambda payload: dt.datetime.fromisoformat(str(payload)),
    "$date": lambda payload: dt.date.fromisoformat(str(payload)),
    "$bytes": lambda payload: base64.b64decode(str(payload), validate=True),
    "$tuple": lambda payload: tuple(from_json(v) for v in list(payload)),
    "$set": lambda payload: {from_json(v) for v in list(payload)},
}


def _decode_tagged(tag: str, payload: Any) -> Any:
    decoder = _DECODERS.get(tag)
    if decoder is None:
        raise ConfigError(f"unknown value tag {tag!r}", hint="both sides must run the same mlops")
    try:
        return decoder(payload)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"malformed {tag} value {payload!r}: {exc}") from exc


__all__ = ["JSONValue", "from_json", "record_params", "record_value", "to_json", "yaml_text"]
