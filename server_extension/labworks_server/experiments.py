"""Experiment tracking on the user's own server, for the Experiments panel.

``/labworks/mlflow/api/2.0/mlflow/...`` forwards the part of MLflow's public REST API the lab
uses (every read, the searches, registering a model: ``FORWARDED_POSTS``) to the platform's
tracking server with the server's hub token, bodies passing through untouched.
``/labworks/experiments/runs/<id>/artifact?path=P`` streams one artifact of a run, up to
``LabworksServerApp.artifact_download_limit``; ``/labworks/experiments/runs/export`` writes runs
as CSV; ``/labworks/experiments/runs/table`` is one page of the runs table with only the columns
the panel shows (the platform's ``/experiments/runs/table``). Where the tracking server is and
how an artifact streams: ``tracking.py``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlencode

import tornado.web

from .client import PlatformClient, PlatformError
from .handlers import CLIENT_SETTING, LabworksHandler
from .tracking import (
    MAX_ARTIFACT_BYTES,
    ArtifactTooLarge,
    artifact_path,
    download,
    tracking_client,
)

TRACKING_SETTING = "labworks_tracking_client"
ARTIFACT_LIMIT_SETTING = "labworks_artifact_download_limit"
MAX_EXPORT_RUNS = 1000
EXPORT_CONCURRENCY = 8
RUN_ID = r"([0-9a-zA-Z]{1,64})"
# MLflow's public REST API (runs/search, metrics/get-history, ...).
MLFLOW_API = r"(api/2\.0/mlflow/[A-Za-z0-9_/-]+)"
# The POSTs of MLflow's API the lab sends (MLflow's GETs only read): searches, and registering
# a run's model. Writing runs and deleting are for the mlflow client, not for the lab's token.
FORWARDED_POSTS = frozenset(
    f"api/2.0/mlflow/{endpoint}"
    for endpoint in (
        "experiments/search",
        "runs/search",
        "logged-models/search",
        "registered-models/create",
        "model-versions/create",
    )
)
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def clean_artifact_path(path: str) -> str:
    """A path inside a run's artifacts (400 for an empty one or one that climbs out)."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        raise tornado.web.HTTPError(400, 'give the artifact\'s "path" inside the run')
    return "/".join(parts)


def _iso(millis: Any) -> str:
    if not isinstance(millis, int | float) or millis <= 0:
        return ""
    return datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="seconds")


def _text_cell(value: Any) -> str:
    """A free-text cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _number_cell(value: Any) -> str:
    if isinstance(value, str):  # MLflow sends NaN and infinities as strings
        return value
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return repr(value)


def runs_csv(runs: list[dict[str, Any]]) -> str:
    """Runs as CSV, one row each: the run's attributes, then ``params.<key>``,
    ``metrics.<key>`` (latest value) and ``tags.<key>`` columns, each kind sorted by key."""
    keys: dict[str, set[str]] = {"params": set(), "metrics": set(), "tags": set()}
    rows = []
    for run in runs:
        data = run.get("data", {})
        values = {kind: {i["key"]: i.get("value") for i in data.get(kind, [])} for kind in keys}
        for kind in keys:
            keys[kind].update(values[kind])
        rows.append((run.get("info", {}), values))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    columns = [(kind, key) for kind in keys for key in sorted(keys[kind])]
    attributes = ["run_id", "run_name", "experiment_id", "status", "user_id"]
    writer.writerow([*attributes, "start_time", "end_time", *(f"{k}.{n}" for k, n in columns)])
    for info, values in rows:
        row = [_text_cell(info.get(name, "")) for name in attributes]
        row += [_iso(info.get("start_time")), _iso(info.get("end_time"))]
        for kind, key in columns:
            value = values[kind].get(key)
            if value is None:
                row.append("")
            else:
                row.append(_number_cell(value) if kind == "metrics" else _text_cell(value))
        writer.writerow(row)
    return out.getvalue()


class TrackingHandler(LabworksHandler):
    """Base of the tracking routes: the owner's token, so the owner only; reads are not
    activity (the panel reads in the background)."""

    owner_may = "see experiments from it; open your own workspace to see yours"

    @property
    def _track_activity(self) -> bool:  # type: ignore[override]
        return self.request.method != "GET"

    @property
    def tracking(self) -> PlatformClient:
        """The tracking server's client, made once per server from the platform client."""
        client = self.settings.get(TRACKING_SETTING)
        if client is None:
            client = tracking_client(self.settings[CLIENT_SETTING])
            self.settings[TRACKING_SETTING] = client
        return client

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """The tracking server's refusals (a bad filter, a missing run) are answers, not bugs:
        one line each, no traceback."""
        if isinstance(value, PlatformError):
            self.log.warning("labworks: tracking server: %s %s", value.status, value.message)
        else:
            super().log_exception(typ, value, tb)


class MlflowApiHandler(TrackingHandler):
    """``GET|POST /labworks/mlflow/api/2.0/mlflow/<endpoint>``: MLflow's REST API as it is
    (``runs/search`` with ``filter``, ``order_by``, ``max_results``, ``page_token``;
    ``runs/get``; ``metrics/get-history-bulk-interval``; ``artifacts/list``; ...)."""

    @tornado.web.authenticated
    async def get(self, path: str) -> None:
        query = f"?{self.request.query}" if self.request.query else ""
        self._send(await self.tracking.forward("GET", path + query))

    @tornado.web.authenticated
    async def post(self, path: str) -> None:
        if path not in FORWARDED_POSTS:
            raise tornado.web.HTTPError(
                403,
                f"the lab does not send POST {path.removeprefix('api/2.0/mlflow/')} to MLflow;"
                " use the mlflow client in a notebook or a terminal",
            )
        self._send(await self.tracking.forward("POST", path, self.request.body or b"{}"))

    def _send(self, body: bytes) -> None:
        self.finish(body, set_content_type="application/json")


class ArtifactHandler(TrackingHandler):
    """``GET /labworks/experiments/runs/<id>/artifact?path=P``: one artifact of a run,
    streamed as an attachment, up to the server's ``artifact_download_limit``."""

    @tornado.web.authenticated
    async def get(self, run_id: str) -> None:
        path = clean_artifact_path(self.get_query_argument("path", ""))
        run = (await self.tracking.get(f"api/2.0/mlflow/runs/get?run_id={run_id}"))["run"]
        size = await self._listed_size(run_id, path)
        limit = int(self.settings.get(ARTIFACT_LIMIT_SETTING, MAX_ARTIFACT_BYTES))
        if size > limit:
            raise tornado.web.HTTPError(413, _too_large(run_id, path, size, limit))
        name = path.rsplit("/", 1)[-1]

        def start(announced: int | None) -> None:
            # Never rendered by the browser as a page of this origin: always an attachment.
            self.set_header("Content-Type", "application/octet-stream")
            self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}")
            self.set_header("X-Content-Type-Options", "nosniff")
            self.set_header("Content-Security-Policy", "sandbox")
            if announced is not None:
                self.set_header("Content-Length", str(announced))

        def write(chunk: bytes) -> None:
            self.write(chunk)
            self.flush()

        try:
            await download(self.tracking, artifact_path(run, path), write, limit, on_size=start)
        except ArtifactTooLarge as e:  # it grew after it was listed
            if self._headers_written:
                self.log.warning("labworks: %s of run %s passed %d bytes", path, run_id, e.limit)
                self.request.connection.close()  # type: ignore[union-attr]
                return
            raise tornado.web.HTTPError(413, _too_large(run_id, path, e.size, limit)) from None
        self.finish(set_content_type="application/octet-stream")

    async def _listed_size(self, run_id: str, path: str) -> int:
        """The artifact's size as its folder's listing gives it (404 when it is not there)."""
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        query = urlencode({"run_id": run_id, "path": folder})
        listing = await self.tracking.get(f"api/2.0/mlflow/artifacts/list?{query}")
        for entry in listing.get("files", []):
            if entry.get("path") == path and not entry.get("is_dir"):
                return int(entry.get("file_size") or 0)
        raise tornado.web.HTTPError(404, f"run {run_id} has no artifact file {path}")


def _too_large(run_id: str, path: str, size: int | None, limit: int) -> str:
    weight = f"{_bytes(size)}, " if size else ""
    return (
        f"{path} is too large to download through the lab ({weight}more than"
        f" {_bytes(limit)}): run `mlflow artifacts download --run-id {run_id}"
        f" --artifact-path {path}` in a terminal instead"
    )


def _bytes(size: float) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024:
            return f"{size:.0f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


class ExportHandler(TrackingHandler):
    """``POST /labworks/experiments/runs/export``: body ``{"run_ids": [...]}``; the runs as
    CSV (attributes, ``params.*``, ``metrics.*`` latest values, ``tags.*``), in that order."""

    @tornado.web.authenticated
    async def post(self) -> None:
        run_ids = self.json_object().get("run_ids")
        if (
            not isinstance(run_ids, list)
            or not run_ids
            or not all(isinstance(i, str) and i.isalnum() for i in run_ids)
        ):
            raise tornado.web.HTTPError(400, '"run_ids" must be a list of run ids')
        if len(run_ids) > MAX_EXPORT_RUNS:
            raise tornado.web.HTTPError(
                400, f"export at most {MAX_EXPORT_RUNS} runs at once, not {len(run_ids)}"
            )
        gate = asyncio.Semaphore(EXPORT_CONCURRENCY)

        async def get(run_id: str) -> dict[str, Any]:
            async with gate:
                answer = await self.tracking.get(f"api/2.0/mlflow/runs/get?run_id={run_id}")
                return answer["run"]

        runs = await asyncio.gather(*(get(i) for i in dict.fromkeys(run_ids)))
        self.set_header("Content-Disposition", 'attachment; filename="runs.csv"')
        self.finish(runs_csv(runs), set_content_type="text/csv; charset=utf-8")


class RunsTableHandler(TrackingHandler):
    """``POST /labworks/experiments/runs/table``: one page of the runs table, as the platform's
    ``POST /experiments/runs/table`` answers it (body: ``experiment_ids``, ``filter``,
    ``order_by``, ``max_results``, ``page_token``, ``columns``)."""

    @tornado.web.authenticated
    async def post(self) -> None:
        self.finish(await self.platform.post("/experiments/runs/table", self.json_object()))


class ModelsHandler(TrackingHandler):
    """``GET /labworks/models``: the registered models the owner can read, with who owns each
    (the platform's ``GET /models``)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.finish(await self.platform.get("/models"))


experiments_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (rf"/labworks/mlflow/{MLFLOW_API}", MlflowApiHandler),
    (rf"/labworks/experiments/runs/{RUN_ID}/artifact", ArtifactHandler),
    (r"/labworks/experiments/runs/export", ExportHandler),
    (r"/labworks/experiments/runs/table", RunsTableHandler),
    (r"/labworks/models", ModelsHandler),
]
