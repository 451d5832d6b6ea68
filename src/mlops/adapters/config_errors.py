"""One line for a validation error: the file, line and column, the key path, what was wrong.

pydantic reports every failure with its location in the model; the user
needs it in the file. :func:`config_error` picks the deepest report of the
first problem, finds the key's line and column in the round-trip YAML, and
phrases it (``expected an integer, found 'abc'``; an unknown key gets a
did-you-mean from the keys valid there).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mlops.errors import ConfigError

_UNION_TAG = re.compile(r"^(str|int|float|bool|none|[a-z-]+\[.*\]|[A-Z][A-Za-z]*)$")


def _field_loc(loc: Sequence[Any], data: Any) -> tuple[Any, ...]:
    """The key path of an error in the user's data, without pydantic's union-member tags.

    A part that is a key (or index) of the data where it stands is kept, even
    when it looks like a tag (an env variable named ``PATH``); other parts
    that look like tags (``str``, ``dict[...]``, a model's name) are dropped.
    """
    path: list[Any] = []
    node = data
    for part in loc:
        if _holds(node, part):
            node = node[part]
        elif isinstance(part, int) or not _UNION_TAG.match(str(part)):
            node = None  # past what the user wrote: a missing key
        else:
            continue
        path.append(part)
    return tuple(path)


def _holds(node: Any, part: Any) -> bool:
    if isinstance(node, Mapping):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _within(inner: tuple[Any, ...], outer: tuple[Any, ...]) -> bool:
    return inner[: len(outer)] == outer


def config_error(
    exc: ValidationError, data: Any, source: str, *, root: type[BaseModel]
) -> ConfigError:
    errors = exc.errors(include_url=False)
    by_loc: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for error in errors:
        by_loc.setdefault(_field_loc(error["loc"], data), []).append(error)
    # One problem may be reported at several depths: a union whose container
    # alternative got further (``{a: 5}`` fails as a string at the key and as
    # a list under ``a``). The deepest report says where the mistake is.
    reported = next(iter(by_loc))
    problem = [loc for loc in by_loc if _within(loc, reported) or _within(reported, loc)]
    loc = max(problem, key=len)
    group = by_loc[loc]
    where = position(data, loc, source)
    path = _dotted(loc) or "(top level)"
    rest = [other for other in by_loc if other not in problem]
    others = sum(1 for a in rest if not any(b != a and _within(a, b) for b in rest))
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    first = group[0]
    kind = first["type"]
    if kind == "extra_forbidden":
        parent, unknown = loc[:-1], str(loc[-1])
        known = _known_keys(parent, root)
        suggestion = difflib.get_close_matches(unknown, known, n=1)
        hint = (
            f"did you mean '{suggestion[0]}'?"
            if suggestion
            else f"valid keys here: {', '.join(known)}"
        )
        return ConfigError(f"{where}: {path}: unknown key{more}", hint=hint)
    if kind == "missing":
        return ConfigError(f"{where}: {path}: required key is missing{more}")
    if len(group) > 1:  # a union: every alternative failed
        wanted = " or ".join(dict.fromkeys(_expectation(e) for e in group))
        found = _show(first.get("input"))
        return ConfigError(f"{where}: {path}: expected {wanted}, found {found}{more}")
    return ConfigError(f"{where}: {path}: {_expected(first)}{more}")


_EXPECTATIONS = {
    "int_parsing": "an integer", "int_type": "an integer", "int_from_float": "an integer",
    "bool_parsing": "true or false", "bool_type": "true or false",
    "string_type": "a string", "dict_type": "a mapping", "list_type": "a list",
    "float_parsing": "a number", "float_type": "a number", "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}  # fmt: skip


_BOUNDS = {
    "greater_than": (">", "gt"), "greater_than_equal": (">=", "ge"),
    "less_than": ("<", "lt"), "less_than_equal": ("<=", "le"),
}  # fmt: skip


def _expectation(error: Mapping[str, Any]) -> str:
    return _EXPECTATIONS.get(error["type"], str(error.get("msg", "a valid value")).lower())


def _expected(error: Mapping[str, Any]) -> str:
    kind, found = error["type"], error.get("input")
    if kind == "value_error":
        return str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if kind in _BOUNDS:
        sign, bound = _BOUNDS[kind]
        limit = error.get("ctx", {}).get(bound)
        shown = f"{limit:g}" if isinstance(limit, int | float) else limit
        return f"expected a value {sign} {shown}, found {_show(found)}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "one of the allowed values")
        return f"expected {expected}, found {_show(found)}"
    if kind in _EXPECTATIONS:
        return f"expected {_EXPECTATIONS[kind]}, found {_show(found)}"
    return f"{str(error.get('msg', 'invalid value')).lower()}, found {_show(found)}"


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe(value: Any) -> str:
    return "a string" if isinstance(value, str) else _show(value)


def _dotted(loc: Sequence[Any]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif parts:
            parts.append(f".{part}")
        else:
            parts.append(str(part))
    return "".join(parts)


def position(data: Any, loc: Sequence[Any], source: str) -> str:
    """``source:line:col`` of the deepest node of ``loc`` present in the YAML."""
    node, line, col = data, None, None
    for part in loc:
        try:
            if isinstance(node, CommentedMap) and part in node:
                line, col = node.lc.key(part)
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line, col = node.lc.item(part)
            else:
                break
        except (KeyError, IndexError, TypeError):  # added by an edit: it has no line yet
            break
        node = node[part]
    return f"{source}:{line + 1}:{col + 1}" if line is not None and col is not None else source


def _known_keys(parent: Sequence[Any], root: type[BaseModel]) -> list[str]:
    model: type[BaseModel] | None = root
    named = False  # the next part is a key the user chose (a process name), not a field
    for part in parent:
        if model is None or isinstance(part, int):
            continue
        if named:
            named = False
            continue
        field = model.model_fields.get(str(part))
        model = _model_of(field.annotation) if field else None
        named = field is not None and _is_mapping_of_models(field.annotation)
    return sorted(model.model_fields) if model else []


def _is_mapping_of_models(annotation: Any) -> bool:
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if getattr(candidate, "__origin__", None) is dict:
            return _model_of(candidate.__args__[-1]) is not None
    return False


def _model_of(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *getattr(annotation, "__args__", ())]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
        for inner in getattr(candidate, "__args__", ()):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


__all__ = ["config_error", "describe", "position"]
