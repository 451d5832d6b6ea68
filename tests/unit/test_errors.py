from __future__ import annotations

import pytest

from mlops import errors
from mlops.errors import ExitCode, MlopsError


def test_one_line_joins_message_and_hint_on_a_single_line() -> None:
    err = errors.ConfigError("bad value\n  for key x", hint="use an int\n")
    assert err.one_line() == "bad value for key x (use an int)"
    assert str(err) == err.one_line()
    assert "\n" not in str(err)


def test_without_hint_the_message_stands_alone() -> None:
    assert errors.GraphError("cycle a -> b -> a").one_line() == "cycle a -> b -> a"


@pytest.mark.parametrize(
    ("cls", "code"),
    [
        (errors.ConfigError, ExitCode.USAGE),
        (errors.WorkspaceError, ExitCode.USAGE),
        (errors.ProjectError, ExitCode.USAGE),
        (errors.GraphError, ExitCode.USAGE),
        (errors.EnvSetupError, ExitCode.USAGE),
        (errors.StorageError, ExitCode.USAGE),
        (errors.ExecutionError, ExitCode.RUN_FAILED),
        (errors.ClusterError, ExitCode.USAGE),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else v.name,
)
def test_every_error_is_an_mlops_error_with_its_exit_code(
    cls: type[MlopsError], code: ExitCode
) -> None:
    err = cls("boom")
    assert isinstance(err, MlopsError)
    assert err.exit_code == code


def _translate() -> None:
    try:
        raise KeyError("k")
    except KeyError as exc:
        raise errors.StorageError("sqlite: key k unreadable") from exc


def test_translated_errors_keep_their_cause() -> None:
    with pytest.raises(errors.StorageError) as info:
        _translate()
    assert isinstance(info.value.__cause__, KeyError)
