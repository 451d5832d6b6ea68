"""The web server: a read-only JSON API over one workspace, its files, and the packaged UI.

``create_app(workspace, token=...)`` is an app factory: the workspace is
resolved when the app is made, never at import time, so tests and several
servers in one process each get their own. ``mlops serve`` runs it with
uvicorn on 127.0.0.1; a non-loopback bind requires a token, which is then
checked on every API and file request (``Authorization: Bearer``, the
``X-Mlops-Token`` header, or ``?token=`` for images the page loads).

The web layer is a front end over :class:`~mlops.session.platform.MLPlatform`, like
the CLI: it sits above the platform in the layers (DESIGN.md lists it beside
the services; it needs projects, runs and charts together, which only the
platform joins).

Runs are read from the project's KV store and, when that store is remote
(Redis, Firestore), also from the local file it falls back to: a run made
while the server was unreachable is listed too, marked ``store: local``
(:mod:`mlops.web.project_stores`).

Bad input is a 4xx with a JSON body, never a 500: ids are validated before
anything is read, and files are served only from inside the workspace
(:mod:`mlops.web.files`).
"""

from __future__ import annotations

import functools
import mimetypes
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from mlops import __version__
from mlops.errors import ConfigError, GraphError, MlopsError, ProjectError
from mlops.managers.project_manager import check_project_id
from mlops.reporting.kv_utils import check_part, get_chart_record, list_chart_records
from mlops.runtime.workspace import Workspace
from mlops.session.platform import MLPlatform
from mlops.session.settings import ProjectStores
from mlops.storage.interfaces.kv_store import KVStore
from mlops.tracking.run_history import compare as compare_runs
from mlops.tracking.run_records import process_counts, run_artifacts
from mlops.tracking.status import ProcessStatus
from mlops.tracking.sweep_records import matching_sweeps
from mlops.web.files import OutsideError, contained_file, is_inside, media_type
from mlops.web.guards import host_guard, token_guard
from mlops.web.project_stores import OpenProject, ProjectStoresCache
from mlops.web.run_table import Columns, available, check_sort, sorted_runs, sweep_of
from mlops.web.sweep_views import sweep_detail, sweep_summary

UI_DIR = Path(__file__).resolve().parent / "ui"


#: ``?runs=A&runs=B``: a list query parameter (FastAPI reads lists from the query this way).
RunsQuery = Annotated[list[str], Query()]
#: ``?param=alpha&param=depth``, ``?metric=r2``: the runs table's chosen columns.
ColumnsQuery = Annotated[Sequence[str], Query()]


class WorkspaceAPI:
    """The JSON endpoints; one instance per app, holding its platform and open stores."""

    def __init__(self, platform: MLPlatform) -> None:
        self.platform = platform
        self.root = platform.workspace.root
        self.stores = ProjectStoresCache(platform)

    # -------------------------------------------------------------- checks

    def project(self, project_id: str) -> Path:
        try:
            check_project_id(project_id)
        except ProjectError as exc:
            raise HTTPException(400, exc.one_line()) from exc
        if not self.platform.projects.exists(project_id):
            raise HTTPException(404, f"no project {project_id!r}")
        return self.platform.projects.project_dir(project_id)

    @staticmethod
    def checked(value: str, what: str) -> str:
        try:
            return check_part(value, what)
        except MlopsError as exc:
            raise HTTPException(400, exc.one_line()) from exc

    def opened(self, project_id: str) -> OpenProject | str:
        """The project's open stores, or the one line that says why its config cannot be read.

        A broken config is the project's problem, not the server's: its pages say
        so (200, ``valid: false``) and every other project stays readable.
        """
        try:
            return self.stores.get(project_id)
        except (ConfigError, GraphError) as exc:
            return exc.one_line()

    def run_record(self, project_id: str, run_id: str) -> tuple[dict[str, Any], KVStore]:
        """The run's record and the KV store that holds it (and its charts)."""
        self.project(project_id)
        opened = self.opened(project_id)
        if isinstance(opened, str):
            raise HTTPException(404, f"the runs of {project_id} cannot be read: {opened}")
        found = opened.run(self.checked(run_id, "run"))
        if found is None:
            raise HTTPException(404, f"project {project_id} has no run {run_id!r}")
        return found

    def sweep_record(self, project_id: str, sweep_id: str) -> tuple[dict[str, Any], OpenProject]:
        """The sweep named by its id, a unique prefix of it or ``latest``, as the command
        line names it; and the project's open stores."""
        self.project(project_id)
        opened = self.opened(project_id)
        if isinstance(opened, str):
            raise HTTPException(404, f"the sweeps of {project_id} cannot be read: {opened}")
        matches = matching_sweeps(opened.sweeps(), self.checked(sweep_id, "sweep"))
        if len(matches) > 1:
            raise HTTPException(
                400, f"sweep {sweep_id!r} of {project_id} is ambiguous: {len(matches)} match"
            )
        if not matches:
            raise HTTPException(404, f"project {project_id} has no sweep {sweep_id!r}")
        return dict(matches[0]), opened

    # -------------------------------------------------------------- endpoints

    def health(self) -> dict[str, Any]:
        # Open to anyone who reaches the port: no file system path (the workspace's
        # name only; the projects' paths are under the token).
        return {"status": "ok", "version": __version__, "workspace": self.root.name}

    def projects(self) -> list[dict[str, Any]]:
        return [_project_summary(i.to_json(), self.root) for i in self.platform.projects.list()]

    def project_detail(self, project_id: str) -> dict[str, Any]:
        self.project(project_id)
        info = _project_summary(self.platform.projects.info(project_id).to_json(), self.root)
        if info["valid"]:
            runs = self.stores.get(project_id).runs()
            info["runs"] = len(runs)
            info["latest_run"] = runs[-1] if runs else None
            info["processes"] = list(self.platform.graph(project_id).order)
        return info

    def runs(  # noqa: PLR0913 - FastAPI passes each query parameter by name
        self,
        project_id: str,
        *,
        limit: int = Query(100, ge=1, le=1000),
        offset: int = Query(0, ge=0),
        sweep: str | None = Query(
            None, description="only this sweep's points (id, prefix, latest)"
        ),
        param: ColumnsQuery = (),
        metric: ColumnsQuery = (),
        sort: str = Query("started_at", description="a run field, param:NAME or metric:NAME"),
        order: Literal["asc", "desc"] = Query("desc"),
    ) -> dict[str, Any]:
        """Runs newest first, or sorted; only a sweep's if asked; with the chosen columns."""
        self.project(project_id)
        columns = Columns.checked(param, metric)
        by = check_sort(sort)
        opened = self.opened(project_id)
        if isinstance(opened, str):
            return {"total": 0, "runs": [], "valid": False, "problem": opened}
        every: list[Mapping[str, Any]] = list(reversed(opened.runs()))
        sweep_id = None
        if sweep is not None:
            sweep_id = self.sweep_record(project_id, sweep)[0]["sweep_id"]
            every = [r for r in every if sweep_of(r) == sweep_id]
        every = sorted_runs(every, by, descending=order == "desc")
        return {
            "total": len(every),
            "runs": [{**r, "columns": columns.of(r)} for r in every[offset : offset + limit]],
            "valid": True,
            "sweep": sweep_id,
            "columns": {"params": list(columns.params), "metrics": list(columns.metrics)},
            "available": available(every),
        }

    def sweeps(self, project_id: str) -> dict[str, Any]:
        """The project's sweeps, newest first, each in brief with its best point."""
        self.project(project_id)
        opened = self.opened(project_id)
        if isinstance(opened, str):
            return {"total": 0, "sweeps": [], "valid": False, "problem": opened}
        every = [sweep_summary(s) for s in opened.sweeps()]
        return {"total": len(every), "sweeps": every, "valid": True}

    def sweep_detail(self, project_id: str, sweep_id: str) -> dict[str, Any]:
        """One sweep: its spec, and its points best first with the best one marked."""
        record, opened = self.sweep_record(project_id, sweep_id)
        return sweep_detail(record, {str(r["run_id"]): r for r in opened.runs()})

    def run_detail(self, project_id: str, run_id: str) -> dict[str, Any]:
        record, _ = self.run_record(project_id, run_id)
        return {**record, "counts": process_counts(record)}

    def graph(self, project_id: str) -> dict[str, Any]:
        self.project(project_id)
        opened = self.opened(project_id)
        if isinstance(opened, str):
            empty: dict[str, Any] = {"nodes": [], "edges": [], "generations": [], "run_id": None}
            return {**empty, "valid": False, "problem": opened}
        pipeline = self.platform.graph(project_id)
        runs = opened.runs()
        found = opened.run(str(runs[-1]["run_id"])) if runs else None
        latest = found[0] if found else None
        processes = (latest or {}).get("processes") or {}
        nodes = [
            {
                "id": name,
                "status": (processes.get(name) or {}).get("status", ProcessStatus.PENDING.value),
                "upstream": list(pipeline.upstream(name)),
            }
            for name in pipeline.order
        ]
        edges = [{"source": u, "target": n} for n in pipeline.order for u in pipeline.upstream(n)]
        return {
            "nodes": nodes,
            "edges": edges,
            "generations": pipeline.generations(),
            "run_id": latest["run_id"] if latest else None,
            "valid": True,
        }

    def charts(self, project_id: str, run_id: str) -> list[dict[str, Any]]:
        _, kv = self.run_record(project_id, run_id)
        listed = []
        for record in list_chart_records(kv, run_id):
            entry = {k: v for k, v in record.items() if k not in ("cache_path", "uri")}
            if record.get("status") == "rendered" and record.get("kind") == "static":
                entry["url"] = (
                    f"/api/projects/{project_id}/runs/{run_id}/charts/fetch?name={record['name']}"
                )
            listed.append(entry)
        return listed

    def compare(self, project_id: str, runs: RunsQuery) -> dict[str, Any]:
        """Runs side by side: their parameters and metrics, rows that differ marked."""
        if len(runs) < 2:
            raise HTTPException(422, "compare needs two runs or more (?runs=A&runs=B)")
        return compare_runs([self.run_record(project_id, run)[0] for run in runs]).to_json()

    def artifacts(self, project_id: str, run_id: str) -> list[dict[str, Any]]:
        """The run's files (each process's, then its charts), each with a download url."""
        record, _ = self.run_record(project_id, run_id)
        return [
            {**entry, "url": _artifact_url(project_id, run_id, str(entry["name"]))}
            for entry in run_artifacts(record)
        ]

    def fetch_artifact(self, project_id: str, run_id: str, name: str = Query(...)) -> Response:
        record, _ = self.run_record(project_id, run_id)
        found = next((e for e in run_artifacts(record) if e["name"] == name), None)
        if found is None:
            raise HTTPException(404, f"run {run_id} has no artifact {name!r}")
        data = self.stores.get(project_id).stores.objects.get(str(found["key"]))
        media = mimetypes.guess_type(name)[0] or "application/octet-stream"
        filename = PurePosixPath(name).name.replace('"', "")
        disposition = f'attachment; filename="{filename}"'
        return Response(data, media_type=media, headers={"Content-Disposition": disposition})

    def fetch_chart(self, project_id: str, run_id: str, name: str = Query(...)) -> Response:
        self.checked(name, "chart")
        _, kv = self.run_record(project_id, run_id)
        record = get_chart_record(kv, run_id, name)
        if record is None or record.get("status") != "rendered" or record.get("kind") != "static":
            raise HTTPException(404, f"run {run_id} has no rendered chart {name!r}")
        return _chart_bytes(record, self.stores.get(project_id).stores, self.root)


def _artifact_url(project_id: str, run_id: str, name: str) -> str:
    return f"/api/projects/{project_id}/runs/{run_id}/artifacts/fetch?name={quote(name)}"


def _serve_from(folder: Path, path: str) -> FileResponse:
    try:
        found = contained_file(folder, path)
    except OutsideError:
        raise HTTPException(404, "no such file") from None
    return FileResponse(found, media_type=media_type(found))


def create_app(
    workspace: Workspace | None = None,
    *,
    token: str | None = None,
    ui_dir: Path | None = None,
) -> FastAPI:
    """The app for ``workspace`` (resolved now when None); see the module docstring."""
    platform = MLPlatform(workspace or Workspace.resolve())
    api = WorkspaceAPI(platform)
    ui = ui_dir or UI_DIR
    app = FastAPI(
        title="mlops",
        version=__version__,
        summary="Projects, runs, process graphs and charts of an mlops workspace.",
        on_shutdown=[api.stores.close],
    )
    app.state.platform = platform
    routes: list[tuple[str, Callable[..., Any]]] = [
        ("/api/health", api.health),
        ("/api/projects", api.projects),
        ("/api/projects/{project_id}", api.project_detail),
        ("/api/projects/{project_id}/runs", api.runs),
        ("/api/projects/{project_id}/runs/{run_id}", api.run_detail),
        ("/api/projects/{project_id}/graph", api.graph),
        ("/api/projects/{project_id}/runs/{run_id}/charts", api.charts),
        ("/api/projects/{project_id}/runs/{run_id}/charts/fetch", api.fetch_chart),
        ("/api/projects/{project_id}/compare", api.compare),
        ("/api/projects/{project_id}/sweeps", api.sweeps),
        ("/api/projects/{project_id}/sweeps/{sweep_id}", api.sweep_detail),
        ("/api/projects/{project_id}/runs/{run_id}/artifacts", api.artifacts),
        ("/api/projects/{project_id}/runs/{run_id}/artifacts/fetch", api.fetch_artifact),
    ]
    for path, endpoint in routes:
        app.add_api_route(path, _json_response(endpoint), methods=["GET"])

    def project_file(path: str) -> FileResponse:
        return _serve_from(platform.workspace.projects_dir, path)

    def ui_file(path: str) -> FileResponse:
        return _serve_from(ui, path)

    def index() -> FileResponse:
        return _serve_from(ui, "index.html")

    app.add_api_route("/projects/{path:path}", project_file, methods=["GET"])
    app.add_api_route("/ui/{path:path}", ui_file, methods=["GET"], include_in_schema=False)
    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.middleware("http")(token_guard(token))
    app.middleware("http")(host_guard(token))
    app.add_exception_handler(MlopsError, _mlops_error)  # type: ignore[arg-type]
    app.add_exception_handler(OSError, _os_error)  # type: ignore[arg-type]
    return app


def _json_response(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Serialize the endpoint's JSON documents directly.

    They are plain JSON already (they come from the KV store), so FastAPI's
    recursive ``jsonable_encoder`` pass is skipped: on a page of 100 runs it
    cost more than reading them. The signature and return annotation stay the
    endpoint's (``functools.wraps``), so parameters and the OpenAPI schema do too.
    """

    @functools.wraps(endpoint)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        return result if isinstance(result, Response) else JSONResponse(result)

    return wrapped


async def _mlops_error(request: Request, exc: MlopsError) -> JSONResponse:
    # Paths inside the workspace as the workspace names them: the answer shows no
    # more of this machine's file system than the request could already reach.
    root = str(request.app.state.platform.workspace.root)
    detail = exc.one_line().replace(f"{root}{os.sep}", "").replace(root, ".")
    return JSONResponse({"detail": detail}, status_code=400)


async def _os_error(request: Request, exc: OSError) -> JSONResponse:
    # A name the file system refuses (too long, a loop of links) names nothing here.
    return JSONResponse({"detail": "not found"}, status_code=404)


def _project_summary(info: dict[str, Any], root: Path) -> dict[str, Any]:
    path = Path(info.pop("path"))
    info["path"] = str(path.relative_to(root)) if path.is_relative_to(root) else path.name
    return info


def _chart_bytes(record: dict[str, Any], stores: ProjectStores, root: Path) -> Response:
    """The chart's PNG: its cache file, else the object store (``gs://``), else a local uri."""
    cache = record.get("cache_path")
    if cache and is_inside(Path(cache), root):
        return FileResponse(Path(cache), media_type="image/png")
    uri = str(record.get("uri") or "")
    key = record.get("object_key")
    if uri.startswith("gs://") and key:
        return Response(stores.objects.get(str(key)), media_type="image/png")
    local = Path(uri.removeprefix("file://")) if uri else None
    if local is not None and is_inside(local, root):
        return FileResponse(local, media_type="image/png")
    raise HTTPException(404, f"the image of chart {record.get('name')!r} is not available")


def __getattr__(name: str) -> Path:
    """``WORKSPACE_ROOT`` and ``PROJECTS_DIR``: the workspace as resolved when read.

    Resolved on each read (``$MLOPS_WORKSPACE_DIR``, the nearest folder with
    ``.mlops/``, else the current directory), so nothing is fixed at import.
    """
    if name == "WORKSPACE_ROOT":
        return Workspace.resolve().root
    if name == "PROJECTS_DIR":
        return Workspace.resolve().projects_dir
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["PROJECTS_DIR", "UI_DIR", "WORKSPACE_ROOT", "WorkspaceAPI", "create_app"]  # noqa: F822 - module __getattr__
