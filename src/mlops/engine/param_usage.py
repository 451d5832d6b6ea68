"""Which parameters a process reads: the part of ``model.parameters`` its cache key covers.

A process depends on the parameters it takes by name (its arguments), on its
own ``processes.<name>.params``, and on the keys its code reads through the
context: ``ctx.params["k"]``, ``ctx.params.get("k", ...)`` and ``"k" in
ctx.params``, in its own body and in every function the context is passed
to (followed through their syntax trees, the way the code hash follows
project-local code). A change to any other parameter leaves its key alone.

Where the reads cannot be known from the code (``ctx.params`` passed on,
iterated or indexed by a variable; the context handed to code whose source
is not available or stored away), every parameter counts, and
:attr:`ParamUsage.unresolved` says where, for ``--explain``.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import textwrap
import types
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mlops.engine.step_system import is_context_parameter, parameters_of


@dataclass(frozen=True)
class ParamUsage:
    """The parameter names a process reads; ``unresolved``: why all of them count instead."""

    arguments: frozenset[str]
    reads: frozenset[str]
    unresolved: str | None = None

    @property
    def names(self) -> frozenset[str]:
        return self.arguments | self.reads

    def select(self, params: Mapping[str, Any], own: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters of ``params`` (global and ``own`` merged) this process depends on."""
        if self.unresolved is not None:
            return dict(params)
        return {k: v for k, v in params.items() if k in own or k in self.names}


_usage_cache: weakref.WeakKeyDictionary[Any, ParamUsage] = weakref.WeakKeyDictionary()


def param_usage(function: Callable[..., Any]) -> ParamUsage:
    """What ``function`` (a process) reads of the parameters; see the module docstring."""
    target = inspect.unwrap(function)
    try:
        return _usage_cache[target]
    except (KeyError, TypeError):
        pass
    parameters = parameters_of(target)
    arguments = frozenset(
        p.name
        for p in parameters
        if not is_context_parameter(p) and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    )
    context = {p.name for p in parameters if is_context_parameter(p)}
    reads = _Reads()
    if context:
        reads.visit(target, frozenset(context))
    usage = ParamUsage(arguments, frozenset(reads.keys), reads.unresolved)
    with contextlib.suppress(TypeError):  # not weak-referenceable: computed again next time
        _usage_cache[target] = usage
    return usage


class _UnresolvedError(Exception):
    """The reads of a function cannot be known statically; the message says where."""


class _Reads:
    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.unresolved: str | None = None
        self._seen: set[tuple[int, frozenset[str]]] = set()

    def visit(self, function: Any, names: frozenset[str]) -> None:
        try:
            self._visit(function, names)
        except _UnresolvedError as exc:
            self.unresolved = str(exc)

    def _visit(self, function: Any, names: frozenset[str]) -> None:
        if (id(function), names) in self._seen:
            return
        self._seen.add((id(function), names))
        tree, where = _source_tree(function)
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        namespace = _namespace(function)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in names and isinstance(node.ctx, ast.Load):
                self._use(node, parents, namespace, where)

    def _use(
        self, node: ast.Name, parents: Mapping[ast.AST, ast.AST], namespace: Any, where: str
    ) -> None:
        parent = parents.get(node)
        here = f"{where}:{getattr(node, 'lineno', '?')}"
        if isinstance(parent, ast.Attribute):
            if parent.attr == "params":
                self.keys.add(_params_key(parent, parents, here))
            return  # any other attribute (log_metric, seed, ...) reads no parameter
        if isinstance(parent, ast.keyword):
            call = parents.get(parent)
            if isinstance(call, ast.Call) and parent.arg is not None:
                self._follow(call, namespace, here, keyword=parent.arg)
                return
        if isinstance(parent, ast.Call) and node in parent.args:
            self._follow(parent, namespace, here, position=parent.args.index(node))
            return
        raise _UnresolvedError(f"the context is used whole at {here}")

    def _follow(
        self,
        call: ast.Call,
        namespace: Any,
        here: str,
        *,
        position: int | None = None,
        keyword: str | None = None,
    ) -> None:
        callee = _resolve(call.func, namespace)
        if not isinstance(callee, types.FunctionType):
            raise _UnresolvedError(f"the context is passed to code mlops cannot read at {here}")
        callee = inspect.unwrap(callee)
        parameters = list(inspect.signature(callee).parameters.values())
        if keyword is not None:
            names = {keyword} if any(p.name == keyword for p in parameters) else set()
        elif position is not None and position < len(parameters):
            names = {parameters[position].name}
        else:
            names = set()
        if not names or any(p.kind is p.VAR_POSITIONAL for p in parameters[: (position or 0) + 1]):
            raise _UnresolvedError(f"the context is passed on through *args or **kwargs at {here}")
        self._visit(callee, frozenset(names))


def _params_key(attribute: ast.Attribute, parents: Mapping[ast.AST, ast.AST], here: str) -> str:
    """The key ``ctx.params`` is read with at ``attribute``, or :class:`_UnresolvedError`."""
    parent = parents.get(attribute)
    if isinstance(parent, ast.Subscript) and parent.value is attribute:
        key = _constant(parent.slice)
    elif isinstance(parent, ast.Attribute) and parent.attr == "get":
        call = parents.get(parent)
        key = _constant(call.args[0]) if isinstance(call, ast.Call) and call.args else None
    elif isinstance(parent, ast.Compare) and attribute in parent.comparators:
        ops_in = all(isinstance(op, ast.In | ast.NotIn) for op in parent.ops)
        key = _constant(parent.left) if ops_in else None
    else:
        key = None
    if key is None:
        raise _UnresolvedError(f"ctx.params is used other than by a literal key at {here}")
    return key


def _constant(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _resolve(node: ast.AST, namespace: Mapping[str, Any]) -> Any:
    """The object a call's function expression names (``helper``, ``module.helper``)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name) or node.id not in namespace:
        return None
    value = namespace[node.id]
    for part in reversed(parts):
        if not isinstance(value, types.ModuleType | type):
            return None
        value = getattr(value, part, None)
    return value


def _namespace(function: Any) -> dict[str, Any]:
    namespace: dict[str, Any] = dict(getattr(function, "__globals__", {}) or {})
    code = getattr(function, "__code__", None)
    for var, cell in zip(
        getattr(code, "co_freevars", ()), function.__closure__ or (), strict=False
    ):
        try:
            namespace[var] = cell.cell_contents
        except ValueError:  # an empty cell
            continue
    return namespace


def _source_tree(function: Any) -> tuple[ast.AST, str]:
    try:
        source = textwrap.dedent(inspect.getsource(function))
        file = inspect.getsourcefile(function) or "?"
    except (OSError, TypeError) as exc:
        name = getattr(function, "__qualname__", function)
        raise _UnresolvedError(f"the source of {name} is not available") from exc
    tree = ast.parse(source)
    # Line numbers as in the file, for the message.
    ast.increment_lineno(tree, inspect.getsourcelines(function)[1] - 1)
    return tree, file.rsplit("/", 1)[-1]


__all__ = ["ParamUsage", "param_usage"]
