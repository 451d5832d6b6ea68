"""Pickles that name a project's classes by their plain module names, wherever they are made.

A worker imports each version of a project's code under a package of its own
(:mod:`mlops.engine.code_versions`): there, the project's ``pipeline.Model`` is
``_mlops_code_<...>.pipeline.Model``. Results are a storage format: a cached
result is read back by ``mlops.load_result`` in a user's shell, which knows
``pipeline.Model`` and nothing of a worker's packages. So :func:`dumps`
writes the plain name for anything defined in a version's package.

The C pickler cannot be told another name for a class (it checks that the
class is what its own ``__module__`` says), the Python pickler can. Pickling
is done by the C pickler, and again by the Python one only when the bytes name
a version's package (a substring search, cheap next to pickling): results
without project classes, the common case, pay nothing. The two picklers write
the same bytes for the same objects at the same protocol, so a result pickled
on a worker has the bytes, and the digest, it has in the driver.
"""

from __future__ import annotations

import io
import pickle
import re
import sys
import types
from collections.abc import Callable
from typing import Any, ClassVar

PROTOCOL = 5
#: How the package of every version of a project's code begins (see mlops.engine.code_versions).
VERSION_PREFIX = "_mlops_code_"
_VERSIONED = re.compile(re.escape(VERSION_PREFIX) + r"[0-9a-f]+_[0-9a-f]+\.")
_MARK = VERSION_PREFIX.encode()


def plain_module(name: str) -> str:
    """``name`` without the version package a worker imported it under (else ``name``)."""
    if not name.startswith(VERSION_PREFIX):
        return name
    match = _VERSIONED.match(name)
    return name[match.end() :] if match else name


def _lookup(module: Any, qualname: str) -> Any:
    target = module
    for part in qualname.split("."):
        target = getattr(target, part, None)
    return target


class _PlainNamePickler(pickle._Pickler):  # the Python pickler: its globals can be renamed
    def __init__(self, file: io.BytesIO) -> None:
        super().__init__(file, protocol=PROTOCOL)
        # One string per module: the memo is by identity, and the C pickler, given the
        # plain classes, would meet the one ``__module__`` string of their module.
        self._plain_names: dict[str, str] = {}

    def save_global(self, obj: Any, name: str | None = None) -> None:
        module = getattr(obj, "__module__", None)
        if not isinstance(module, str) or plain_module(module) == module:
            super().save_global(obj, name)  # type: ignore[misc]
            return
        qualname = name or getattr(obj, "__qualname__", None) or obj.__name__
        # The check the pickler makes for any global: the object is what its module calls it.
        if _lookup(sys.modules.get(module), qualname) is not obj:
            raise pickle.PicklingError(
                f"Can't pickle {obj!r}: it's not the same object as {module}.{qualname}"
            )
        # What pickle writes for a global at protocol 4 and up, under the plain name.
        plain = self._plain_names.setdefault(module, plain_module(module))
        self.save(plain)  # type: ignore[attr-defined]
        self.save(qualname)  # type: ignore[attr-defined]
        self.write(pickle.STACK_GLOBAL)  # type: ignore[attr-defined]
        self.memoize(obj)  # type: ignore[attr-defined]

    # Functions are saved through the dispatch table, which holds the base class's
    # save_global; classes go through save_type, which calls this one.
    dispatch: ClassVar[dict[type, Callable[..., None]]] = {
        **pickle._Pickler.dispatch,
        types.FunctionType: lambda self, obj: self.save_global(obj),
    }


def dumps(value: Any) -> bytes:
    """``value``'s pickle, with the project's classes under their plain module names."""
    data = pickle.dumps(value, protocol=PROTOCOL)
    if _MARK not in data:
        return data
    buffer = io.BytesIO()
    _PlainNamePickler(buffer).dump(value)
    return buffer.getvalue()


__all__ = ["PROTOCOL", "VERSION_PREFIX", "dumps", "plain_module"]
