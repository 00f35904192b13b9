"""Experiment tracking on the user's own server, for the Experiments panel.

``/labworks/mlflow/api/2.0/mlflow/...`` forwards the part of MLflow's public REST API the lab
uses (every read, the searches, registering a model: ``FORWARDED_POSTS``) to the platform's
tracking server with the server's hub token, bodies passing through untouched.
``/labworks/experiments/runs/<id>/artifact?path=P`` streams one artifact of a run, up to
``LabworksServerApp.artifact_download_limit``; ``/labworks/experiments/runs/export`` writes runs
as CSV; ``/labworks/experiments/runs/table`` is one page of the runs table with only the columns
the panel shows (the platform's ``/experiments/runs/table``). The tracking server sits beside
the platform API: its URL is the platform API URL with the trailing ``/api/v1`` replaced by
``/mlflow``, as in kernels and jobs.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import os
from collections.abc import Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, urlencode

import tornado.web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.httputil import HTTPHeaders, ResponseStartLine, parse_response_start_line

from .client import UNREACHABLE, PlatformClient, PlatformError
from .handlers import CLIENT_SETTING, LabworksHandler
from .sharing import OwnerHandler

TRACKING_SETTING = "labworks_tracking_client"
API_SUFFIX = "/api/v1"
TRACKING_SUFFIX = "/mlflow"
# What one download through the lab may weigh by default (LabworksServerApp.
# artifact_download_limit); larger artifacts are for `mlflow artifacts download` in a
# terminal, which streams to disk.
MAX_ARTIFACT_BYTES = 512 * 1024 * 1024
ARTIFACT_LIMIT_SETTING = "labworks_artifact_download_limit"
DOWNLOAD_TIMEOUT = 600.0
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


def tracking_url(api_url: str) -> str:
    """The tracking server's URL for a platform API root: ``.../api/v1`` becomes ``.../mlflow``."""
    root = api_url.rstrip("/")
    if root.endswith(API_SUFFIX):
        root = root[: -len(API_SUFFIX)]
    return root + TRACKING_SUFFIX if root else ""


class ArtifactTooLarge(Exception):
    """An artifact is larger than a download through the lab may be."""

    def __init__(self, size: int | None, limit: int) -> None:
        super().__init__(f"artifact larger than {limit} bytes")
        self.size = size
        self.limit = limit


class TrackingClient(PlatformClient):
    """A ``PlatformClient`` for the MLflow tracking server.

    JSON answers pass through as bytes (a page of runs can weigh megabytes: parsing and
    writing it again would only cost time); MLflow's errors keep their ``error_code``; an
    artifact streams, chunk by chunk, into a sink.
    """

    @classmethod
    def for_platform(cls, platform: PlatformClient) -> TrackingClient:
        """The tracking server beside ``platform``, with the same token and timeout."""
        return cls(tracking_url(platform.api_url), platform._token, platform.timeout)

    async def forward(self, method: str, path: str, body: bytes | None = None) -> bytes:
        """Send ``method path`` (query included) and return the JSON answer's raw bytes.

        Raises:
            PlatformError: unreachable, not configured, or MLflow's error (its status, its
                ``error_code`` as code, its message).
        """
        headers = {**self._headers(), "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = self._request(path, method=method, headers=headers, body=body)
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except OSError as e:
            raise self._unreachable(e) from None
        if response.code == 599:
            raise self._unreachable(response.error)
        if response.code >= 300:  # redirects are not followed: an answer MLflow never gives
            raise mlflow_error(response.code, response.body)
        return response.body or b"{}"

    async def json(self, method: str, path: str, body: Any = None) -> Any:
        """``forward`` with a JSON body, returning the parsed answer."""
        raw = None if body is None else json.dumps(body).encode()
        answer = await self.forward(method, path, raw)
        try:
            return json.loads(answer)
        except ValueError:
            raise PlatformError(
                UNREACHABLE, "tracking_bad_response", "the tracking server sent invalid JSON"
            ) from None

    async def download(
        self,
        path: str,
        sink: Callable[[bytes], None],
        limit: int = MAX_ARTIFACT_BYTES,
        on_size: Callable[[int | None], None] | None = None,
    ) -> int:
        """Stream the body of ``GET path`` into ``sink``; returns the bytes sent.

        ``on_size`` learns the announced size (or None) before the first chunk.

        Raises:
            ArtifactTooLarge: announced or found larger than ``limit`` (the sink may have
                taken part of it when the size was not announced).
            PlatformError: unreachable, or MLflow's error answer.
        """
        stream = _Stream(sink, limit, on_size)
        request = self._request(
            path,
            method="GET",
            headers=self._headers(),
            header_callback=stream.header,
            streaming_callback=stream.chunk,
            request_timeout=DOWNLOAD_TIMEOUT,
        )
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except Exception as e:  # tornado wraps what a callback raised
            if stream.too_large is not None:
                raise stream.too_large from None
            if isinstance(e, OSError):
                raise self._unreachable(e) from None
            raise
        if stream.too_large is not None:
            raise stream.too_large
        if response.code == 599:
            raise self._unreachable(response.error)
        if stream.status >= 300:
            raise mlflow_error(stream.status, bytes(stream.error_body))
        return stream.received

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def _request(self, path: str, **kwargs: Any) -> HTTPRequest:
        if not self.api_url:
            raise PlatformError(
                UNREACHABLE, "platform_not_configured", "platform service URL is not configured"
            )
        kwargs.setdefault("request_timeout", self.timeout)
        return HTTPRequest(
            self.url(path), connect_timeout=self.timeout, follow_redirects=False, **kwargs
        )

    def _unreachable(self, error: BaseException | None) -> PlatformError:
        if isinstance(error, HTTPClientError):
            reason = error.message or str(error)
        else:
            reason = str(error) or type(error).__name__
        return PlatformError(
            UNREACHABLE,
            "tracking_unreachable",
            f"tracking server unreachable at {self.api_url}: {reason}",
        )


class _Stream:
    """The callbacks of one streamed download: status, announced size, chunks, the cap."""

    def __init__(
        self,
        sink: Callable[[bytes], None],
        limit: int,
        on_size: Callable[[int | None], None] | None,
    ) -> None:
        self.sink = sink
        self.limit = limit
        self.on_size = on_size
        self.status = 0
        self.headers = HTTPHeaders()
        self.received = 0
        self.error_body = bytearray()
        self.too_large: ArtifactTooLarge | None = None
        self._started = False

    def header(self, line: str) -> None:
        if line.startswith("HTTP/"):
            start = parse_response_start_line(line.strip())
            assert isinstance(start, ResponseStartLine)
            self.status, self.headers = start.code, HTTPHeaders()
        elif line.strip():
            self.headers.parse_line(line)
        elif self.status < 300:  # end of the final headers: the size is known, or never will be
            length = self.headers.get("Content-Length")
            size = int(length) if length and length.isdigit() else None
            if size is not None and size > self.limit:
                self.too_large = ArtifactTooLarge(size, self.limit)
                raise self.too_large  # stops the transfer
            if self.on_size is not None and not self._started:
                self.on_size(size)
            self._started = True

    def chunk(self, data: bytes) -> None:
        if self.status >= 300:
            if len(self.error_body) < 64 * 1024:
                self.error_body.extend(data)
            return
        self.received += len(data)
        if self.received > self.limit:
            self.too_large = ArtifactTooLarge(None, self.limit)
            raise self.too_large  # stops the transfer
        self.sink(data)


def mlflow_error(status: int, raw: bytes | None) -> PlatformError:
    """MLflow's error answer as a ``PlatformError``: its ``error_code`` (else the gate's
    ``error``) and its message; a generic message for a body that is not MLflow's JSON."""
    try:
        body = json.loads(raw or b"")
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        code = body.get("error_code") or body.get("error") or "tracking_error"
        return PlatformError(status, str(code), body["message"])
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    return PlatformError(status, "tracking_error", f"tracking server answered {status} {phrase}")


def artifact_path(run: dict[str, Any], path: str) -> str:
    """Where the tracking server serves ``path`` of ``run``: its proxied artifact store
    (``mlflow-artifacts:/``), else MLflow's ``get-artifact`` route for any other store."""
    info = run.get("info", {})
    root = str(info.get("artifact_uri", ""))
    if root.startswith("mlflow-artifacts:"):
        stem = root.removeprefix("mlflow-artifacts:").lstrip("/").rstrip("/")
        return f"api/2.0/mlflow-artifacts/artifacts/{quote(stem)}/{quote(path)}"
    return "get-artifact?" + urlencode({"run_id": info.get("run_id", ""), "path": path})


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


class TrackingHandler(OwnerHandler):
    """Base of the tracking routes: the owner's token, so the owner only; reads are not
    activity (the panel reads in the background)."""

    @property
    def _track_activity(self) -> bool:  # type: ignore[override]
        return self.request.method != "GET"

    @property
    def tracking(self) -> TrackingClient:
        """The tracking client, made once per server from the platform client."""
        client = self.settings.get(TRACKING_SETTING)
        if client is None:
            client = TrackingClient.for_platform(self.settings[CLIENT_SETTING])
            self.settings[TRACKING_SETTING] = client
        return client

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """The tracking server's refusals (a bad filter, a missing run) are answers, not bugs:
        one line each, no traceback."""
        if isinstance(value, PlatformError):
            self.log.warning("labworks: tracking server: %s %s", value.status, value.message)
        else:
            super().log_exception(typ, value, tb)

    def check_owner(self) -> None:
        owner = os.environ.get("JUPYTERHUB_USER")
        if owner and self.username != owner:
            raise tornado.web.HTTPError(
                403,
                f"only {owner}, who owns this workspace, can see experiments from it;"
                " open your own workspace to see yours",
            )


class MlflowApiHandler(TrackingHandler):
    """``GET|POST /labworks/mlflow/api/2.0/mlflow/<endpoint>``: MLflow's REST API as it is
    (``runs/search`` with ``filter``, ``order_by``, ``max_results``, ``page_token``;
    ``runs/get``; ``metrics/get-history-bulk-interval``; ``artifacts/list``; ...)."""

    @tornado.web.authenticated
    async def get(self, path: str) -> None:
        self.check_owner()
        query = f"?{self.request.query}" if self.request.query else ""
        self._send(await self.tracking.forward("GET", path + query))

    @tornado.web.authenticated
    async def post(self, path: str) -> None:
        self.check_owner()
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
        self.check_owner()
        path = clean_artifact_path(self.get_query_argument("path", ""))
        run = (await self.tracking.json("GET", f"api/2.0/mlflow/runs/get?run_id={run_id}"))["run"]
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
            await self.tracking.download(artifact_path(run, path), write, limit, on_size=start)
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
        listing = await self.tracking.json("GET", f"api/2.0/mlflow/artifacts/list?{query}")
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
        self.check_owner()
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
                answer = await self.tracking.json("GET", f"api/2.0/mlflow/runs/get?run_id={run_id}")
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
        self.check_owner()
        self.finish(await self.platform.post("/experiments/runs/table", self.json_object()))


class ModelsHandler(TrackingHandler):
    """``GET /labworks/models``: the registered models the owner can read, with who owns each
    (the platform's ``GET /models``)."""

    @tornado.web.authenticated
    async def get(self) -> None:
        self.check_owner()
        self.finish(await self.platform.get("/models"))


experiments_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (rf"/labworks/mlflow/{MLFLOW_API}", MlflowApiHandler),
    (rf"/labworks/experiments/runs/{RUN_ID}/artifact", ArtifactHandler),
    (r"/labworks/experiments/runs/export", ExportHandler),
    (r"/labworks/experiments/runs/table", RunsTableHandler),
    (r"/labworks/models", ModelsHandler),
]
