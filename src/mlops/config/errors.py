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
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from mlops.errors import ConfigError

#: The error type of a choice no name or alias matches (a discriminated union's tag),
#: with ``key``, ``what`` and ``choices`` in its context.
UNKNOWN_CHOICE_ERROR = "unknown_choice"

_UNION_TAG = re.compile(r"^(str|int|float|bool|none|[a-z-]+\[.*\]|[A-Z][A-Za-z]*)$")


def _strip(annotation: Any) -> Any:
    """``annotation`` without ``Annotated`` wrappers (that are not union tags) and ``None``."""
    while get_origin(annotation) is Annotated:
        annotation = annotation.__origin__
    if _is_union(annotation):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _strip(members[0])
    return annotation


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, UnionType)


def _tagged_members(annotation: Any) -> dict[str, Any]:
    """A discriminated union's members by tag (``{}`` for anything else)."""
    if not _is_union(annotation):
        return {}
    members: dict[str, Any] = {}
    for member in get_args(annotation):
        tag = next((m.tag for m in getattr(member, "__metadata__", ()) if isinstance(m, Tag)), None)
        if tag is None:
            return {}
        members[tag] = _strip(member)
    return members


def _member_named(annotation: Any, name: str) -> Any:
    """The member of a plain union that pydantic reports as ``name`` (``str``, ``list[str]``,
    ``dict[...]``, a model's name); ``nullable[...]`` wraps the member it names."""
    name = name.split("[", 1)[0] if not name.startswith("nullable[") else name[9:].split("[", 1)[0]
    for candidate in get_args(annotation):
        member = _strip(candidate)
        if getattr(get_origin(member) or member, "__name__", None) == name:
            return member
    return None


def _child(annotation: Any, part: Any) -> Any:
    """What sits under ``part`` of a value typed ``annotation`` (None: not known)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(str(part))
        return _strip(field.annotation) if field is not None else None
    origin = get_origin(annotation)
    if origin is dict:
        return _strip(get_args(annotation)[-1])
    if origin is list and isinstance(part, int):
        return _strip(get_args(annotation)[0])
    return None


def resolve(loc: Sequence[Any], root: Any) -> tuple[tuple[Any, ...], Any]:
    """The key path of a pydantic error location in the user's data, and the type found there.

    pydantic puts the members of unions in its locations (a discriminated
    union's tag such as ``redis``, a plain union's ``str`` or ``list[str]``);
    the user wrote none of those. Walking the schema along the location tells
    the tags from the keys, even a key that looks like a tag (a variable named
    ``PATH``).
    """
    annotation, path = _strip(root), []
    for part in loc:
        members = _tagged_members(annotation)
        if members and part in members:
            annotation = members[part]
            continue
        if _is_union(annotation) and isinstance(part, str) and _UNION_TAG.match(part):
            annotation = _member_named(annotation, part)
            continue
        path.append(part)
        annotation = _child(annotation, part) if annotation is not None else None
    return tuple(path), annotation


def _within(inner: tuple[Any, ...], outer: tuple[Any, ...]) -> bool:
    return inner[: len(outer)] == outer


def config_error(
    exc: ValidationError,
    data: Any,
    source: str,
    *,
    root: Any,
    prefix: tuple[str, ...] = (),
) -> ConfigError:
    """One line for the first problem ``exc`` reports in ``data`` (validated as ``root``).

    ``source`` names the file (positions come from round-trip YAML in
    ``data``); ``prefix`` is where ``data`` sits in the config, for options
    validated on their own (``storage.kv`` built from a mapping in code).
    """
    errors = exc.errors(include_url=False)
    by_loc: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    raw: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for error in errors:
        loc, _ = resolve(error["loc"], root)
        by_loc.setdefault(loc, []).append(error)
        raw.setdefault(loc, tuple(error["loc"]))
    # One problem may be reported at several depths: a union whose container
    # alternative got further (``{a: 5}`` fails as a string at the key and as
    # a list under ``a``). The deepest report says where the mistake is.
    reported = next(iter(by_loc))
    problem = [loc for loc in by_loc if _within(loc, reported) or _within(reported, loc)]
    loc = max(problem, key=len)
    group = by_loc[loc]
    rest = [other for other in by_loc if other not in problem]
    others = sum(1 for a in rest if not any(b != a and _within(a, b) for b in rest))
    more = f" (and {others} more problem{'s' if others > 1 else ''})" if others else ""
    first = group[0]
    kind = first["type"]
    if kind == UNKNOWN_CHOICE_ERROR and isinstance(first.get("input"), Mapping):
        ctx = first.get("ctx", {})
        loc = (*loc, ctx.get("key", "backend"))
        found = first["input"].get(ctx.get("key", "backend"))
        what, choices = ctx.get("what", "name"), ctx.get("choices")
        message = f"unknown {what} {found!r}; choose one of: {choices}{more}"
        return _located(data, loc, source, prefix, message)
    if kind == UNKNOWN_CHOICE_ERROR:
        found = _show(first.get("input"))
        return _located(data, loc, source, prefix, f"expected a mapping, found {found}{more}")
    if kind == "extra_forbidden":
        unknown = str(loc[-1])
        _, parent = resolve(raw[loc][:-1], root)
        known = _known_keys(parent)
        suggestion = difflib.get_close_matches(unknown, known, n=1)
        hint = (
            f"did you mean '{suggestion[0]}'?"
            if suggestion
            else f"valid keys here: {', '.join(known)}"
        )
        return _located(data, loc, source, prefix, f"unknown key{more}", hint=hint)
    if kind == "missing":
        return _located(data, loc, source, prefix, f"required key is missing{more}")
    if len(group) > 1:  # a union: every alternative failed
        wanted = " or ".join(dict.fromkeys(_expectation(e) for e in group))
        found = _show(first.get("input"))
        return _located(data, loc, source, prefix, f"expected {wanted}, found {found}{more}")
    return _located(data, loc, source, prefix, f"{_expected(first)}{more}")


def _located(
    data: Any,
    loc: tuple[Any, ...],
    source: str,
    prefix: tuple[str, ...],
    message: str,
    *,
    hint: str | None = None,
) -> ConfigError:
    where = position(data, loc, source)
    path = _dotted((*prefix, *loc)) or "(top level)"
    return ConfigError(f"{where}: {path}: {message}" if where else f"{path}: {message}", hint=hint)


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


def _known_keys(model: Any) -> list[str]:
    """The keys a user may write in ``model`` (fields the schema adds itself are not)."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return []
    return sorted(name for name, field in model.model_fields.items() if not field.exclude)


__all__ = ["config_error", "describe", "position", "resolve"]
