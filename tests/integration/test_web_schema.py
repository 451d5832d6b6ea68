"""Schemathesis against the app's own OpenAPI schema: generated input never gets a 5xx.

The app serves a real workspace (a project with a completed and a failed run
and their charts), so generated ids hit real stores and real records; the
known ids are mixed into the examples so the "found" paths are exercised too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.schemas import BaseSchema

from fixtures.cli import run_mlops
from fixtures.projects import ProjectFactory
from mlops.runtime.workspace import Workspace
from mlops.session.platform import MLPlatform
from mlops.web.server import create_app

pytestmark = pytest.mark.slow

PIPELINE = """
from mlops import process
from mlops import chart

@process
def train(ctx, fail=False):
    if fail:
        raise RuntimeError("diverged")
    ctx.log_metric("loss", 0.5)
    return 1

@chart(kind="dynamic")
def loss(ctx):
    return {"series": [{"name": "loss", "points": [[0, ctx.final("train", "loss")]]}]}
"""
# Without a token the app answers loopback host names only (schemathesis sends "testserver").
LOOPBACK = "http://127.0.0.1"
FETCH = "GET /api/projects/{project_id}/runs/{run_id}/charts/fetch"


@pytest.fixture
def served(
    make_project: ProjectFactory, tmp_workspace: Path
) -> tuple[BaseSchema, dict[str, list[str]]]:
    """The app's schema, and known ids: the project, a completed and a failed run, a sweep
    (of one completed and one failed point)."""
    charts = {"reporting": {"charts": [{"name": "loss"}]}}
    make_project("demo", PIPELINE, "train", params={"fail": False}, extra=charts)
    platform = MLPlatform()
    ok = platform.run_pipeline_for_project("demo")
    failed = platform.run_pipeline_for_project("demo", param_overrides={"fail": True})
    swept = run_mlops(tmp_workspace, "sweep", "demo", "--grid", "model.parameters.fail=false,true",
                      "--metric", "loss", "--local")  # fmt: skip
    assert swept.returncode == 1, swept.stderr  # the failing point failed
    sweep_id = json.loads(run_mlops(tmp_workspace, "sweeps", "demo", "--json").stdout)[0][
        "sweep_id"
    ]
    app = create_app(Workspace.resolve(tmp_workspace))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, headers={"Host": "127.0.0.1"})
    known = {"project_id": ["demo"], "run_id": [ok.run_id, failed.run_id],
             "sweep_id": [sweep_id, "latest"]}  # fmt: skip
    return schema, known


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_generated_request_gets_a_server_error(
    served: tuple[BaseSchema, dict[str, list[str]]], mode: GenerationMode
) -> None:
    api_schema, known = served
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10, [op.label for op in operations]  # every API route is there
    # Real ids half of the time, so requests reach records and not only "not found".
    calls: dict[str, int] = {}

    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode), pick=st.randoms())
        @settings(max_examples=80, suppress_health_check=list(HealthCheck), deadline=None)
        def call(case: Case, pick: Any) -> None:
            for name, values in known.items():
                if name in (case.path_parameters or {}) and pick.random() < 0.5:
                    case.path_parameters[name] = pick.choice(values)
            response = case.call(base_url=LOOPBACK)
            calls[case.operation.label] = calls.get(case.operation.label, 0) + 1
            assert response.status_code < 500, (
                f"{case.method} {case.formatted_path} {case.query}: {response.status_code} "
                f"{response.text[:300]}"
            )
            content_type = response.headers["content-type"][0]
            assert content_type.startswith(("application/json", "image/png")), content_type

        try:
            call()
        except Unsatisfiable:
            # Negative mode: any string is a valid path parameter, so routes with
            # only those have no invalid input to send.
            assert mode is GenerationMode.NEGATIVE, operation.label
    if mode is GenerationMode.POSITIVE:
        assert set(calls) == {op.label for op in operations}
    else:  # the routes whose query parameters have constraints
        assert {"GET /api/projects/{project_id}/runs", FETCH} <= set(calls), calls
