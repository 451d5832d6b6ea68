from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlops.errors import StorageError
from mlops.storage import path_utils
from mlops.storage.path_utils import GcsLocation


@pytest.mark.parametrize(
    ("key", "expected"),
    [("a/b", "a/b"), ("./a//b/", "a/b"), ("a/./b", "a/b"), ("é/ü", "é/ü"), ("a b/c", "a b/c")],
    ids=["plain", "dots-and-slashes", "inner-dot", "unicode", "spaces"],
)
def test_normalize_key(key: str, expected: str) -> None:
    assert path_utils.normalize_key(key) == expected


@pytest.mark.parametrize(
    ("key", "message"),
    [("../x", "contains '..'"), ("a/../../x", "contains '..'"), ("/etc/passwd", "is absolute"),
     ("a\\b", "backslash"), ("", "is empty"), ("./", "is empty"), (3, "must be a string")],
    ids=["dotdot", "nested-dotdot", "absolute", "backslash", "empty", "dot-slash", "not-str"],
)  # fmt: skip
def test_normalize_key_refuses(key: object, message: str) -> None:
    with pytest.raises(StorageError, match=message):
        path_utils.normalize_key(key)


def test_gcs_uris_are_parsed_and_normalised() -> None:
    assert path_utils.parse_gcs_uri("gs://bucket/a//b/") == GcsLocation("bucket", "a/b")
    assert path_utils.parse_gcs_uri("gs://bucket") == GcsLocation("bucket", "")
    assert GcsLocation("bucket", "a/b").uri == "gs://bucket/a/b"
    assert GcsLocation("bucket", "").uri == "gs://bucket"


@pytest.mark.parametrize(
    "uri", ["s3://bucket/x", "gs:///x", "gs://bucket/../x", "gs://../x"],
    ids=["other-scheme", "no-bucket", "dotdot-path", "dotdot-bucket"],
)  # fmt: skip
def test_bad_gcs_uris_are_refused(uri: str) -> None:
    with pytest.raises(StorageError):
        path_utils.parse_gcs_uri(uri)


def test_relative_locations_resolve_against_project_then_workspace(tmp_path: Path) -> None:
    project = tmp_path / "projects" / "demo"
    project.mkdir(parents=True)
    assert (
        path_utils.resolve_location("data/x.csv", workspace=tmp_path, project_dir=project)
        == (project / "data" / "x.csv").resolve()
    )
    assert (
        path_utils.resolve_location("data/x.csv", workspace=tmp_path)
        == (tmp_path / "data" / "x.csv").resolve()
    )
    assert path_utils.resolve_location("gs://b/k", workspace=tmp_path) == GcsLocation("b", "k")


def test_absolute_locations_are_allowed_only_when_asked(tmp_path: Path) -> None:
    outside = tmp_path.parent / "elsewhere.csv"
    assert path_utils.resolve_location(outside, workspace=tmp_path) == outside.resolve()
    with pytest.raises(StorageError, match="is absolute"):
        path_utils.resolve_location(outside, workspace=tmp_path, allow_absolute=False)


@pytest.mark.parametrize("location", ["../x", "a/../../x", "   "], ids=["up", "nested-up", "blank"])
def test_escaping_or_blank_locations_are_refused(tmp_path: Path, location: str) -> None:
    with pytest.raises(StorageError):
        path_utils.resolve_location(location, workspace=tmp_path)


def test_a_symlink_pointing_out_of_the_workspace_is_refused(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (tmp_path / "secret").mkdir()
    (workspace / "link").symlink_to(tmp_path / "secret")
    with pytest.raises(StorageError, match="outside"):
        path_utils.contained_path(workspace, "link/file.txt")


def test_workspace_relative(tmp_path: Path) -> None:
    assert path_utils.workspace_relative(tmp_path / "a" / "b", tmp_path) == "a/b"
    assert path_utils.workspace_relative(tmp_path, tmp_path) == "."
    with pytest.raises(StorageError, match="outside the workspace"):
        path_utils.workspace_relative(tmp_path.parent, tmp_path)


SEGMENTS = st.sampled_from(["a", "b", "..", ".", "", "é", "..a", "a..", "/", "~"])


@given(parts=st.lists(SEGMENTS, min_size=1, max_size=6))
def test_contained_paths_never_leave_the_base(
    tmp_path_factory: pytest.TempPathFactory, parts: list[str]
) -> None:
    base = tmp_path_factory.getbasetemp() / "prop-ws"
    base.mkdir(exist_ok=True)
    relative = "/".join(parts)
    try:
        resolved = path_utils.contained_path(base, relative)
    except StorageError:
        return
    assert resolved.is_relative_to(base.resolve())


@given(parts=st.lists(SEGMENTS, min_size=1, max_size=6))
def test_normalised_keys_have_no_parent_or_empty_segments(parts: list[str]) -> None:
    try:
        key = path_utils.normalize_key("/".join(parts))
    except StorageError:
        return
    segments = key.split("/")
    assert ".." not in segments
    assert "" not in segments
    assert "." not in segments
    assert not key.startswith("/")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: path_utils.normalize_key(3), "object key must be a string, got 3"),
        (lambda: path_utils.normalize_key("a\\b"),
         "object key 'a\\\\b' contains a backslash or NUL; use '/' separators"),
        (lambda: path_utils.normalize_key("a\x00"),
         "object key 'a\\x00' contains a backslash or NUL; use '/' separators"),
        (lambda: path_utils.normalize_key("/a"),
         "object key '/a' is absolute; use a path relative to the store"),
        (lambda: path_utils.normalize_key("a/../b"),
         "object key 'a/../b' contains '..'; keys cannot leave the store"),
        (lambda: path_utils.normalize_key("./"), "object key './' is empty"),
        (lambda: path_utils.parse_gcs_uri("s3://b/x"),
         "'s3://b/x' is not a gs:// URI (expected gs://bucket/path)"),
        (lambda: path_utils.parse_gcs_uri("gs://./x"),
         "'gs://./x' names no bucket (expected gs://bucket/path)"),
        (lambda: path_utils.parse_gcs_uri("gs://../x"),
         "'gs://../x' names no bucket (expected gs://bucket/path)"),
        (lambda: path_utils.parse_gcs_uri("gs://a\\b/x"),
         "'gs://a\\\\b/x' names no bucket (expected gs://bucket/path)"),
        (lambda: path_utils.parse_gcs_uri("gs://b/../x"),
         "path of 'gs://b/../x' '../x' contains '..'; keys cannot leave the store"),
        (lambda: path_utils.contained_path(Path("/srv/ws"), "/etc"),
         "path '/etc' is absolute; give it relative to /srv/ws"),
    ],
    ids=["type", "backslash", "nul", "absolute", "parent", "empty", "scheme", "dot-bucket",
         "dotdot-bucket", "backslash-bucket", "gcs-parent", "absolute-path"],
)  # fmt: skip
def test_each_refusal_is_one_exact_line(call: Callable[[], object], message: str) -> None:
    with pytest.raises(StorageError) as caught:
        call()
    assert caught.value.one_line() == message


def test_a_path_leaving_the_base_names_where_it_would_land(tmp_path: Path) -> None:
    base = tmp_path / "ws"
    base.mkdir()
    with pytest.raises(StorageError) as caught:
        path_utils.contained_path(base, "../x")
    assert caught.value.one_line() == (
        f"path '../x' resolves to {tmp_path.resolve() / 'x'}, outside {base.resolve()}; "
        "keep it inside the workspace"
    )
