"""The platform's MLflow tracking server, reached with a ``PlatformClient`` rooted at it.

The tracking server sits beside the platform API: its URL is the platform API URL with the
trailing ``/api/v1`` replaced by ``/mlflow``, as in kernels and jobs. JSON answers pass through
as bytes (``PlatformClient.forward``); MLflow's errors keep their ``error_code``; an artifact
streams, chunk by chunk, into a sink (``download``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from tornado.httputil import HTTPHeaders, ResponseStartLine, parse_response_start_line

from .client import PlatformClient

API_SUFFIX = "/api/v1"
TRACKING_SUFFIX = "/mlflow"
# What one download through the lab may weigh by default (LabworksServerApp.
# artifact_download_limit); larger artifacts are for `mlflow artifacts download` in a
# terminal, which streams to disk.
MAX_ARTIFACT_BYTES = 512 * 1024 * 1024
DOWNLOAD_TIMEOUT = 600.0


def tracking_url(api_url: str) -> str:
    """The tracking server's URL for a platform API root: ``.../api/v1`` becomes ``.../mlflow``."""
    root = api_url.rstrip("/")
    if root.endswith(API_SUFFIX):
        root = root[: -len(API_SUFFIX)]
    return root + TRACKING_SUFFIX if root else ""


def tracking_client(platform: PlatformClient) -> PlatformClient:
    """A client of the tracking server beside ``platform``, with its token and timeout."""
    return platform.beside(
        tracking_url(platform.api_url), service="tracking server", code="tracking"
    )


class ArtifactTooLarge(Exception):
    """An artifact is larger than a download through the lab may be."""

    def __init__(self, size: int | None, limit: int) -> None:
        super().__init__(f"artifact larger than {limit} bytes")
        self.size = size
        self.limit = limit


async def download(
    tracking: PlatformClient,
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
    try:
        await tracking.fetch(
            "GET",
            path,
            header_callback=stream.header,
            streaming_callback=stream.chunk,
            request_timeout=DOWNLOAD_TIMEOUT,
        )
    except Exception:  # tornado wraps what a callback raised, or reports no response at all
        if stream.too_large is not None:
            raise stream.too_large from None
        raise
    if stream.too_large is not None:
        raise stream.too_large
    if stream.status >= 300:
        raise tracking.refusal(stream.status, bytes(stream.error_body))
    return stream.received


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


def artifact_path(run: dict[str, Any], path: str) -> str:
    """Where the tracking server serves ``path`` of ``run``: its proxied artifact store
    (``mlflow-artifacts:/``), else MLflow's ``get-artifact`` route for any other store."""
    info = run.get("info", {})
    root = str(info.get("artifact_uri", ""))
    if root.startswith("mlflow-artifacts:"):
        stem = root.removeprefix("mlflow-artifacts:").lstrip("/").rstrip("/")
        return f"api/2.0/mlflow-artifacts/artifacts/{quote(stem)}/{quote(path)}"
    return "get-artifact?" + urlencode({"run_id": info.get("run_id", ""), "path": path})
