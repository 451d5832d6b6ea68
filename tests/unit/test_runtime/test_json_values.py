"""Config values as JSON: exact across interpreters, readable in records."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlops.errors import ConfigError
from mlops.runtime.json_values import from_json, record_params, record_value, to_json
from mlops.runtime.request import RunRequest

# What YAML can give a config: its scalars (dates, timestamps, bytes, every float),
# and sets, sequences, pairs and mappings of them.
KEYS = st.one_of(st.text(max_size=8), st.just("$date"), st.just("$map"))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.just(math.inf),
    st.just(-math.inf),
    st.text(max_size=12),
    st.binary(max_size=12),
    st.dates(),
    # YAML's timestamps carry a fixed offset (``+02:00``, ``Z``), never a zone's rules.
    st.datetimes(
        timezones=st.one_of(
            st.none(),
            st.timedeltas(min_value=-dt.timedelta(hours=23), max_value=dt.timedelta(hours=23)).map(
                lambda offset: dt.timezone(dt.timedelta(minutes=offset // dt.timedelta(minutes=1)))
            ),
        )
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.frozensets(SCALARS.filter(lambda v: not isinstance(v, float)), max_size=3).map(set),
        st.dictionaries(KEYS, inner, max_size=4),
    ),
    max_leaves=12,
)


@given(VALUES)
def test_every_yaml_value_survives_json_exactly_with_its_type(value: Any) -> None:
    text = json.dumps(to_json(value), allow_nan=False)  # strict JSON: no NaN, no Infinity
    back = from_json(json.loads(text))
    assert back == value
    assert type(back) is type(value)


def test_nan_survives_as_nan() -> None:
    back = from_json(json.loads(json.dumps(to_json(float("nan")), allow_nan=False)))
    assert isinstance(back, float)
    assert math.isnan(back)


def test_a_mapping_that_looks_like_a_tag_stays_a_mapping() -> None:
    value = {"$date": "not a date"}
    assert from_json(json.loads(json.dumps(to_json(value)))) == value


@pytest.mark.parametrize(
    "tagged",
    [{"$date": "2020-13-45"}, {"$bytes": "***"}, {"$nope": 1}, {"$set": 3}],
    ids=["bad-date", "bad-base64", "unknown-tag", "set-of-a-number"],
)
def test_a_malformed_tag_is_a_config_error(tagged: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        from_json(tagged)


def test_a_value_yaml_cannot_give_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="cannot be sent to another process"):
        to_json(object())


def test_a_run_request_carries_set_values_with_their_type() -> None:
    overrides = {
        "model.parameters.start": dt.date(2020, 1, 1),
        "model.parameters.alpha": float("inf"),
        "model.parameters.blob": b"\x00\x01",
    }
    request = RunRequest("demo", overrides=overrides)
    assert RunRequest.from_json(request.to_json()).overrides == overrides


RECORDED = [
    (dt.date(2020, 1, 2), "2020-01-02"),
    (dt.datetime(2020, 1, 2, 3, 4, tzinfo=dt.UTC), "2020-01-02T03:04:00+00:00"),
    (dt.time(10, 30), "10:30:00"),
    (b"hi", "b'hi'"),
    ({"b", "a"}, ["a", "b"]),
    (float("nan"), "nan"),
    (float("-inf"), "-inf"),
    ((1, 2.5), [1, 2.5]),
    ({"nested": {1: dt.date(2020, 1, 1)}}, {"nested": {"1": "2020-01-01"}}),
    (ValueError("x"), "ValueError('x')"),
]


@pytest.mark.parametrize(("value", "shown"), RECORDED, ids=[str(i) for i in range(len(RECORDED))])
def test_records_show_every_value_as_strict_json(value: Any, shown: Any) -> None:
    recorded = record_value(value)
    assert recorded == shown
    json.dumps(recorded, allow_nan=False)


def test_recorded_params_keep_every_key() -> None:
    assert record_params({"a": 1, 2: dt.date(2021, 5, 6)}) == {"a": 1, "2": "2021-05-06"}
