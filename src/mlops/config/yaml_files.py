"""Reading and writing the user's YAML: comments, key order and positions kept.

Config files are read with ruamel's round-trip loader, so a rewrite keeps the
user's comments and layout and every node knows its line and column (for
error messages); :func:`plain_data` turns the nodes into plain data for
validation.

Every user file and command-line value goes through the bounds here before
anything walks it: a few hundred bytes of nested aliases (a "billion laughs")
would otherwise expand to gigabytes in validation, and a value nested a few
thousand levels deep would overflow the parser's stack. Over a bound, the
input is refused with one :class:`~mlops.errors.ConfigError` line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import warnings
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor, SafeConstructor
from ruamel.yaml.error import MarkedYAMLError, ReusedAnchorWarning, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import LiteralScalarString
from ruamel.yaml.scanner import RoundTripScanner, Scanner
from ruamel.yaml.timestamp import TimeStamp

from mlops.errors import ConfigError
from mlops.runtime.bounded_files import NotRegularFileError, read_regular_file


class _Checked:
    """A constructor whose Python errors are YAML errors at the node that caused them.

    Legal YAML can ask for values Python refuses to build: ``!!float abc``,
    ``!!timestamp 2020-13-45``, a 5,000-digit integer (over Python's limit on
    integer text), a sequence as a mapping key (unhashable). Each is a mistake in
    the file, reported at its line like a syntax error, never a Python traceback.
    """

    def construct_non_recursive_object(self, node: Any, tag: str | None = None) -> Any:
        try:
            return super().construct_non_recursive_object(node, tag)  # type: ignore[misc]
        except (ValueError, TypeError, OverflowError) as exc:
            raise _unbuildable(node, exc) from exc

    def check_mapping_key(
        self, node: Any, key_node: Any, mapping: Any, key: Any, value: Any
    ) -> Any:
        try:
            return super().check_mapping_key(node, key_node, mapping, key, value)  # type: ignore[misc]
        except TypeError as exc:  # an unhashable key, such as ``? [[a]]``
            raise _unbuildable(key_node, exc) from exc


def _unbuildable(node: Any, exc: Exception) -> ConstructorError:
    reason = " ".join(str(exc).split())
    if "integer string conversion" in reason:
        reason = "an integer of more than 4,300 digits"
    return ConstructorError(None, None, f"cannot read this value ({reason})", node.start_mark)


_VALUE_HINT = "correct the value, or quote it to keep it as text"


class _RoundTripChecked(_Checked, RoundTripConstructor):
    pass


class _SafeChecked(_Checked, SafeConstructor):
    pass


class _NestedTooDeepError(Exception):
    """A flow collection (``[``, ``{``) opened past MAX_YAML_DEPTH levels, at ``where``
    (``line:column``, from 1)."""

    def __init__(self, where: str) -> None:
        super().__init__(where)
        self.where = where


class _DepthBound:
    """A scanner that stops at the first ``[`` or ``{`` nested past MAX_YAML_DEPTH.

    The scanner keeps a possible simple key per open flow collection and looks
    at all of them for every token: text nested thousands of levels deep costs
    tokens x depth (10 KB of ``[`` took 20-45 s). Such data is refused anyway
    (:func:`check_bounds`: each open flow collection is one level of the data),
    so the scan stops there, at once.
    """

    flow_context: list[str]

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:  # noqa: N803
        if len(self.flow_context) >= MAX_YAML_DEPTH:
            mark = self.reader.get_mark()  # type: ignore[attr-defined]
            raise _NestedTooDeepError(f"{mark.line + 1}:{mark.column + 1}")
        super().fetch_flow_collection_start(TokenClass, to_push)  # type: ignore[misc]


class _BoundedRoundTripScanner(_DepthBound, RoundTripScanner):
    pass


class _BoundedScanner(_DepthBound, Scanner):
    pass


def yaml_round_trip() -> YAML:
    """The YAML codec for user files: keeps comments, key order and quoting on rewrite."""
    yaml = YAML(typ="rt")
    yaml.Scanner = _BoundedRoundTripScanner
    yaml.Constructor = _RoundTripChecked
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def dump_yaml(data: Any) -> str:
    """YAML text for data loaded by :func:`parse_yaml` (or plain data), comments kept."""
    buffer = io.StringIO()
    yaml_round_trip().dump(data, buffer)
    return buffer.getvalue()


# Far above any real config (a 5,000-process pipeline is ~100 KB and ~30,000
# nodes), far below what takes noticeable time or memory to parse and validate.
MAX_YAML_BYTES = 2 * 1024 * 1024
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 200_000


@contextlib.contextmanager
def _anchors_may_repeat() -> Iterator[None]:
    """YAML lets a later anchor of a name replace an earlier one: no warning for it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ReusedAnchorWarning)
        yield


def parse_scalar(text: str, source: str = "the value") -> Any:
    """A value typed on the command line, read as YAML (``1`` int, ``[a, b]`` list, ``x`` str).

    Text over several lines that YAML would fold into one (``a b\nc d`` reads
    as ``a b c d``) is kept as typed, and written back as a ``|`` block.
    """
    _check_size(len(text.encode("utf-8", "surrogatepass")), source)
    reader = YAML(typ="safe", pure=True)
    reader.Scanner = _BoundedScanner
    reader.Constructor = _SafeChecked
    try:
        with _anchors_may_repeat():
            value = reader.load(text)
    except (_NestedTooDeepError, RecursionError):  # a value on a command line: no position
        raise _too_deep(source) from None
    except ConstructorError as exc:
        raise ConfigError(f"{source}: {exc.problem}", hint=_VALUE_HINT) from exc
    except YAMLError as exc:
        reason = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise ConfigError(f"bad value in {source}: {reason}", hint=_VALUE_HINT) from exc
    if isinstance(value, str) and "\n" in text.strip() and "\n" not in value:
        return LiteralScalarString(text)
    check_bounds(value, source)
    return value


def read_user_text(path: Path, source: str) -> str:
    """A user's text file, read within MAX_YAML_BYTES and decoded as UTF-8.

    ``FileNotFoundError`` passes through (each caller knows what a missing
    file means); any other failure to read is one ConfigError line.
    """
    try:
        raw = read_regular_file(path, MAX_YAML_BYTES)
    except FileNotFoundError:
        raise
    except NotRegularFileError as exc:
        raise ConfigError(
            f"{source}: cannot read the file: {exc}", hint="replace it with a YAML file"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"{source}: cannot read the file: {exc.strerror or exc}") from exc
    _check_size(len(raw), source)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{source}:{line}: the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
            hint="save it as UTF-8",
        ) from exc


def read_yaml_file(path: Path, source: str) -> Any:
    """Read and parse a user's YAML file within the bounds (see :func:`read_user_text`)."""
    return parse_yaml(read_user_text(path, source), source)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text; a syntax error becomes ``source:line:col: invalid YAML: ...``."""
    _check_size(len(text.encode("utf-8", "surrogatepass")), source)
    try:
        with _anchors_may_repeat():
            data = yaml_round_trip().load(io.StringIO(text))
    except _NestedTooDeepError as exc:
        raise _too_deep(f"{source}:{exc.where}") from None
    except RecursionError:
        raise _too_deep(source) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = " ".join(str(exc.problem or exc.context or "syntax error").split())
        hint = (
            _VALUE_HINT
            if isinstance(exc, ConstructorError)
            else "check the indentation and the ':' after each key there"
        )
        raise ConfigError(f"{where}: invalid YAML: {problem}", hint=hint) from exc
    except ReaderError as exc:  # a character YAML does not allow, anywhere in the file
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise ConfigError(
            f"{source}:{line}: invalid YAML: character {exc.character:#06x} is not allowed",
            hint="remove the control character (YAML allows tab, newline and printable text)",
        ) from exc
    check_bounds(data, source)
    return data


def check_bounds(value: Any, source: str) -> None:
    """Refuse data nested deeper than MAX_YAML_DEPTH, holding more than MAX_YAML_NODES
    once aliases are expanded, or referring to itself.

    Aliases share one object, so each is sized once (memoised by identity): a
    bomb is measured without being expanded.
    """
    sizes: dict[int, int] = {}
    open_ids: set[int] = set()

    def size(node: Any, depth: int) -> int:
        if not isinstance(node, Mapping | list):
            return 1
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_ids:
            raise ConfigError(
                f"{source}: a value refers to itself (an alias inside its own anchor)",
                hint="replace the alias with the value it stands for",
            )
        if depth >= MAX_YAML_DEPTH:
            raise _too_deep(source)
        open_ids.add(key)
        children = node.values() if isinstance(node, Mapping) else node
        total = 1
        for child in children:
            total += size(child, depth + 1)
            if total > MAX_YAML_NODES:
                raise ConfigError(
                    f"{source}: more than {MAX_YAML_NODES:,} values once aliases are expanded",
                    hint="write the data out, or keep large data in a file the pipeline reads",
                )
        open_ids.discard(key)
        sizes[key] = total
        return total

    size(value, 0)


def _check_size(n_bytes: int, source: str) -> None:
    if n_bytes > MAX_YAML_BYTES:
        raise ConfigError(
            f"{source}: larger than {MAX_YAML_BYTES // (1024 * 1024)} MiB of YAML",
            hint="keep large data in a file the pipeline reads, not in the config",
        )


def _too_deep(source: str) -> ConfigError:
    return ConfigError(
        f"{source}: nested more than {MAX_YAML_DEPTH} levels deep",
        hint="flatten the value; configs need only a few levels",
    )


def plain_data(value: Any) -> Any:  # noqa: PLR0911 - one return per kind of node
    """Round-trip YAML nodes as plain Python values: what validation and processes see.

    ruamel's wrappers (a timestamp keeping its layout, a set keeping comments,
    a float keeping its exponent) become the built-in types they stand for, so
    a process's parameters, their cache key and their pickles name no ruamel
    class. Dates, bytes and sets stay what YAML made them; records show them
    through :mod:`mlops.runtime.json_values`.
    """
    if isinstance(value, Mapping):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    if isinstance(value, tuple):
        return tuple(plain_data(v) for v in value)
    if isinstance(value, AbstractSet):
        return {plain_data(v) for v in value}
    if isinstance(value, TimeStamp):
        return dt.datetime.fromisoformat(value.isoformat())
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int) and type(value) is not int:
        return int(value)  # ScalarInt (hex, underscores)
    if isinstance(value, float) and type(value) is not float:
        return float(value)  # ScalarFloat (an exponent, a trailing zero)
    if hasattr(value, "value") and type(value).__module__.startswith("ruamel"):
        return value.value  # ruamel scalar wrappers (quoted strings, tagged scalars)
    return value


__all__ = [
    "MAX_YAML_BYTES",
    "MAX_YAML_DEPTH",
    "MAX_YAML_NODES",
    "check_bounds",
    "dump_yaml",
    "parse_scalar",
    "parse_yaml",
    "plain_data",
    "read_user_text",
    "read_yaml_file",
    "yaml_round_trip",
]
