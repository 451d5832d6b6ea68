"""Cache keys: what a process's result depends on, as stable hashes.

A process's key combines four parts, each a SHA-256 hex digest:

- ``code``: the process function's syntax tree (comments, blank lines and
  docstrings do not count) plus, transitively, every project-local function or
  class it refers to and the simple module-level constants it reads;
- ``params``: its effective parameters;
- ``upstream``: the hashes of its upstream results;
- ``env``: the environment spec hash;
- ``inputs``: the content digests of the data files the process declares;
- ``seed``: the project's random seed.

Values are hashed by a canonical encoding (dict order does not matter, types
do: ``1`` and ``"1"`` differ). Objects the encoding does not know are hashed by
their pickle, which can only make two equal values look different (a cache
miss), never two different values look equal. A value that cannot be pickled
raises :class:`HashingError`: the key is never silently weaker.
"""

from __future__ import annotations

import ast
import dataclasses
import enum
import functools
import hashlib
import inspect
import struct
import sys
import textwrap
import types
import weakref
from collections import ChainMap
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from mlops.cache import plain_pickle
from mlops.cache.frame_digests import frame_parts, is_frame
from mlops.cache.plain_pickle import plain_module
from mlops.errors import MlopsError


class HashingError(MlopsError):
    """A value or function that a cache key depends on cannot be hashed."""


def hash_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's content, read in chunks."""
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


# ------------------------------------------------------------------ values


def stable_hash(value: Any, *, what: str = "value") -> str:
    """A digest of ``value`` that is equal for equal values across runs and processes."""
    digest = hashlib.sha256()
    _encode(value, digest.update, what, depth=0)
    return digest.hexdigest()


_SIMPLE = (type(None), bool, int, float, str, bytes)


def _encode(  # noqa: PLR0912 - one branch per kind of value, in priority order
    value: Any, emit: Callable[[bytes], object], what: str, depth: int
) -> None:
    if depth > 200:
        raise HashingError(f"cannot hash {what}: it is nested more than 200 levels deep")

    def tagged(tag: bytes, payload: bytes) -> None:
        emit(tag + struct.pack(">Q", len(payload)) + payload)

    if value is None:
        emit(b"N")
    elif isinstance(value, bool):
        emit(b"T" if value else b"F")
    elif isinstance(value, int) and not isinstance(value, enum.Enum):
        tagged(b"i", str(value).encode())
    elif isinstance(value, float):
        tagged(b"f", float.hex(value).encode())
    elif isinstance(value, str) and not isinstance(value, enum.Enum):
        tagged(b"s", value.encode("utf-8", "surrogatepass"))
    elif isinstance(value, bytes | bytearray | memoryview):
        tagged(b"b", bytes(value))
    elif isinstance(value, PurePath):
        tagged(b"p", value.as_posix().encode())
    elif isinstance(value, enum.Enum):
        tagged(b"e", f"{_type_name(value)}.{value.name}".encode())
    elif isinstance(value, Mapping):
        items = sorted(
            ((stable_hash(k, what=what), v) for k, v in value.items()), key=lambda kv: kv[0]
        )
        emit(b"{" + struct.pack(">Q", len(items)))
        for key_hash, item in items:
            emit(key_hash.encode())
            _encode(item, emit, what, depth + 1)
    elif isinstance(value, list | tuple):
        emit((b"[" if isinstance(value, list) else b"(") + struct.pack(">Q", len(value)))
        for item in value:
            _encode(item, emit, what, depth + 1)
    elif isinstance(value, set | frozenset):
        members = sorted(stable_hash(item, what=what) for item in value)
        tagged(b"S", "".join(members).encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        tagged(b"d", _type_name(value).encode())
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        _encode(fields, emit, what, depth + 1)
    elif callable(value) and isinstance(value, types.FunctionType | type):
        tagged(b"c", code_hash(value).encode())
    elif is_frame(value):
        tagged(b"D", _type_name(value).encode())
        for part in frame_parts(value):
            tagged(b"|", part)
    elif _is_array(value):
        array = value
        header = f"{array.dtype.str}|{array.shape}".encode()
        tagged(b"a", header + b"|" + hashlib.sha256(_array_bytes(array)).digest())
    elif hasattr(value, "model_dump") and callable(value.model_dump):  # pydantic models
        tagged(b"m", _type_name(value).encode())
        _encode(value.model_dump(), emit, what, depth + 1)
    else:
        tagged(b"P", _type_name(value).encode() + b"|" + pickled_digest(value, what=what).encode())


def _type_name(value: Any) -> str:
    # A project's class by its plain module name, also where a worker imported a
    # version of the project under a name of its own.
    return f"{plain_module(type(value).__module__)}.{type(value).__qualname__}"


def _is_array(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "dtype") and hasattr(value, "shape")


def _array_bytes(array: Any) -> bytes:
    if array.dtype.hasobject:  # object arrays hold pointers; their pickle holds the values
        return plain_pickle.dumps(array.tolist())
    return bytes(array.tobytes(order="C"))


#: A result is digested by content when it is an array or a frame, or a short tuple,
#: list or dict of them (``X_train, X_test, y_train, y_test``); anything else by its
#: pickle, which is one pass over bytes however large the value.
_CONTENT_ITEMS = 64


def result_digest(value: Any, pickled_digest: str) -> str:
    """The digest of a process's result: equal arrays and data frames give equal
    digests, whatever their pickles (a frame's pickle keeps its history); any other
    value is its pickle's digest."""
    if _by_content(value, top=True):
        return "content:" + stable_hash(value, what="the result")
    return pickled_digest


def _by_content(value: Any, *, top: bool) -> bool:
    if is_frame(value) or _is_array(value):
        return True
    if not top:
        return isinstance(value, _SIMPLE)
    if isinstance(value, Mapping):
        items = list(value.values()) if len(value) <= _CONTENT_ITEMS else []
    elif isinstance(value, list | tuple):
        items = list(value) if len(value) <= _CONTENT_ITEMS else []
    else:
        return False
    frames = [item for item in items if is_frame(item) or _is_array(item)]
    return bool(frames) and all(_by_content(item, top=False) for item in items)


def pickled_digest(value: Any, *, what: str = "value") -> str:
    """The digest of ``value``'s pickle; a clear error when it cannot be pickled."""
    try:
        return hash_bytes(plain_pickle.dumps(value))
    except Exception as exc:  # pickle raises many types (TypeError, PicklingError, AttributeError)
        raise HashingError(
            f"cannot hash {what}: {type(value).__name__} objects cannot be pickled ({exc})",
            hint="pass plain data (numbers, strings, lists, dicts, arrays) or a picklable object",
        ) from exc


# ------------------------------------------------------------------ code


# function -> {roots: digest}; a function object's code never changes (an edited file
# is a new module with new function objects), so its digest is computed once.
_code_cache: weakref.WeakKeyDictionary[Any, dict[tuple[Path, ...], str]] = (
    weakref.WeakKeyDictionary()
)


def code_hash(func: Callable[..., Any] | type, *, local_roots: Iterable[Path] | None = None) -> str:
    """A digest of ``func``'s code and of the project-local code it uses, transitively.

    Project-local means defined in a module whose file is under one of
    ``local_roots`` (default: the folder of ``func``'s own module). Library
    code (numpy, sklearn, the standard library) is left out: the environment
    spec hash covers it.
    """
    target = inspect.unwrap(func)
    roots = tuple(local_roots) if local_roots is not None else _default_roots(target)
    try:
        known = _code_cache.setdefault(target, {})
    except TypeError:  # builtins cannot be weak-referenced
        known = {}
    if roots not in known:
        walker = _CodeWalker(roots)
        walker.visit(target)
        known[roots] = hash_bytes("\n".join(walker.parts).encode())
    return known[roots]


def _default_roots(target: Any) -> tuple[Path, ...]:
    module = sys.modules.get(getattr(target, "__module__", "") or "")
    file = getattr(module, "__file__", None)
    return (_resolved(file).parent,) if file else ()


@functools.lru_cache(maxsize=4096)
def _resolved(file: str) -> Path:
    """``file`` resolved once per run: resolving walks every component (a syscall each)."""
    return Path(file).resolve()


@functools.lru_cache(maxsize=4096)
def _is_under(file: str, roots: tuple[Path, ...]) -> bool:
    path = _resolved(file)
    return any(path.is_relative_to(root) for root in roots)


@functools.lru_cache(maxsize=256)
def _module_functions(filename: str, mtime_ns: int, size: int) -> dict[int, ast.AST]:
    """Every function of a module file by its first line, docstrings stripped; {} if unreadable.

    A module is parsed once however many of its functions are hashed (a
    project of 1,000 processes in one file parsed it 1,000 times, a piece at a
    time, through ``inspect.getsource``). The key holds the file's time and
    size, so an edited file is parsed again.
    """
    try:
        tree = ast.parse(Path(filename).read_bytes())
    except (OSError, SyntaxError, ValueError):
        return {}
    _strip_docstrings(tree)
    found: dict[int, ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # A function's code starts at its first decorator, as its code object does.
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            found.setdefault(first, node)
    return found


def _function_tree(obj: Any) -> ast.Module | None:
    """``obj``'s syntax tree from its module's index, or None to read it another way."""
    code = getattr(inspect.unwrap(obj), "__code__", None)  # as inspect.getsource unwraps
    if code is None or code.co_name == "<lambda>" or not code.co_filename.endswith(".py"):
        return None
    try:
        stat = Path(code.co_filename).stat()
    except OSError:
        return None
    node = _module_functions(code.co_filename, stat.st_mtime_ns, stat.st_size).get(
        code.co_firstlineno
    )
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name != code.co_name:
        return None
    return ast.Module(body=[node], type_ignores=[])


@dataclass
class _CodeWalker:
    roots: tuple[Path, ...]
    parts: list[str] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)

    def visit(self, obj: Any) -> None:
        if id(obj) in self.seen:
            return
        self.seen.add(id(obj))
        tree, namespace = self._tree(obj)
        self.parts.append(f"{getattr(obj, '__qualname__', '?')}:{ast.dump(tree)}")
        for name, value in self._references(tree, namespace, obj):
            if isinstance(value, types.FunctionType | type) and self._is_local(value):
                self.visit(inspect.unwrap(value))
            elif isinstance(value, (*_SIMPLE, tuple, frozenset)) and not name.startswith("__"):
                digest = stable_hash(value, what=f"the module constant {name!r}")
                self.parts.append(f"const {name}={digest}")

    def _tree(self, obj: Any) -> tuple[ast.AST, Mapping[str, Any]]:
        indexed = _function_tree(obj)
        if indexed is not None:
            return indexed, self._namespace(obj)
        try:
            source = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError) as exc:
            code = getattr(obj, "__code__", None)
            if code is None:
                raise HashingError(
                    f"cannot hash the code of {getattr(obj, '__qualname__', obj)!r}: "
                    f"its source is not available ({exc})",
                    hint="define processes and steps in .py files of the project's src/ folder",
                ) from exc
            # Defined without a file (exec, REPL): hash the bytecode and constants instead.
            return ast.Constant(value=_bytecode_text(code)), getattr(obj, "__globals__", {})
        return _strip_docstrings(ast.parse(source)), self._namespace(obj)

    @staticmethod
    def _namespace(obj: Any) -> Mapping[str, Any]:
        """The names ``obj``'s code can see: its closure, then (a class) its module, then its
        globals. Layered, not copied: a copy of the globals per function made hashing a
        module of N functions O(N^2)."""
        layers: list[dict[str, Any]] = []
        closure = getattr(obj, "__closure__", None) or ()
        freevars = getattr(getattr(obj, "__code__", None), "co_freevars", ())
        cells: dict[str, Any] = {}
        for var, cell in zip(freevars, closure, strict=False):
            try:
                cells[var] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
        if cells:
            layers.append(cells)
        if isinstance(obj, type):
            layers.append(vars(sys.modules.get(obj.__module__, types.ModuleType("?"))))
        layers.append(getattr(obj, "__globals__", {}) or {})
        return layers[0] if len(layers) == 1 else ChainMap(*layers)

    @staticmethod
    def _references(tree: ast.AST, namespace: Mapping[str, Any], obj: Any) -> list[tuple[str, Any]]:
        local, names, chains = _names_used(tree)
        found: dict[str, Any] = {}
        for name in names:
            if name in namespace and name not in local:
                found.setdefault(name, namespace[name])
        for chain in chains:
            if chain[0] in namespace and chain[0] not in local:
                value: Any = namespace[chain[0]]
                for part in chain[1:]:
                    if not isinstance(value, types.ModuleType | type):
                        break
                    value = getattr(value, part, None)
                found.setdefault(".".join(chain), value)
        found.pop(getattr(obj, "__name__", ""), None)  # recursion: already being hashed
        return sorted(found.items(), key=lambda item: item[0])

    def _is_local(self, value: Any) -> bool:
        module = sys.modules.get(getattr(value, "__module__", "") or "")
        file = getattr(module, "__file__", None)
        return bool(file) and _is_under(file, self.roots)


def _names_used(tree: ast.AST) -> tuple[set[str], list[str], list[list[str]]]:
    """In one walk: the local names, the names read, and the dotted names read.

    Arguments and assigned names are local: an argument named like a global
    function (a process taking its upstream ``load``) does not refer to it.
    """
    local: set[str] = set()
    names: list[str] = []
    chains: list[list[str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            local.add(node.arg)
        elif isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Store | ast.Del):
                local.add(node.id)
            else:
                names.append(node.id)
        elif isinstance(node, ast.Attribute):
            chain = _attribute_chain(node)
            if chain:
                chains.append(chain)
    return local, names, chains


def _attribute_chain(node: ast.Attribute) -> list[str]:
    parts: list[str] = []
    current: ast.AST = node
    while isinstance(current, ast.Attribute):
        parts.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name):
        return []
    parts.append(current.id)
    return parts[::-1]


def _strip_docstrings(tree: ast.Module) -> ast.Module:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Module):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    # Decorators change how a process runs (@process options), so they stay in the tree.
    return tree


def _bytecode_text(code: types.CodeType) -> str:
    constants = [
        _bytecode_text(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts
    ]
    return f"{code.co_code.hex()}|{constants}|{code.co_names}"


# ------------------------------------------------------------------ keys


@dataclass(frozen=True)
class CacheKey:
    """A process's cache key and the parts it was made from (for ``--explain``)."""

    key: str
    components: Mapping[str, str]

    def changed_parts(self, previous: Mapping[str, Any] | None) -> list[str]:
        """Which named parts differ from a previous key's parts (all if there is none)."""
        if not previous:
            return []
        return [name for name, value in self.components.items() if previous.get(name) != value]


def process_cache_key(
    *,
    name: str,
    code: str,
    params: Mapping[str, Any],
    upstream: Mapping[str, str],
    env: str,
    inputs: Mapping[str, str] | None = None,
    seed: int | None = None,
) -> CacheKey:
    """The key of one process run; see the module docstring for what goes in."""
    components = {
        "name": stable_hash(name),
        "code": code,
        "params": stable_hash(dict(params), what=f"the parameters of process {name!r}"),
        "upstream": stable_hash(dict(upstream)),
        "env": env,
        "inputs": stable_hash(dict(inputs or {})),
        "seed": stable_hash(seed),
    }
    key = hash_bytes("|".join(f"{k}={v}" for k, v in sorted(components.items())).encode())
    return CacheKey(key, components)


__all__ = [
    "CacheKey",
    "HashingError",
    "code_hash",
    "file_digest",
    "hash_bytes",
    "pickled_digest",
    "process_cache_key",
    "result_digest",
    "stable_hash",
]
