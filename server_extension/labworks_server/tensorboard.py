"""TensorBoard in the lab: one ``tensorboard`` process per log directory, started on demand,
proxied through jupyter-server-proxy and stopped when idle or when the server stops.

``POST /labworks/tensorboard {"logdir": "runs/exp1"}`` (a folder of the workspace, relative to
the server's root) or ``{"run_id": "..."}`` (the run's ``tensorboard/`` artifacts, downloaded
from the tracking server with the server's token into a cache folder) answers ``{id, url, ...}``;
``GET`` lists what runs; ``DELETE /labworks/tensorboard/<id>`` stops one. The UI is served at
``<base_url>labworks/tensorboard/<id>/`` by a jupyter-server-proxy ``LocalProxyHandler`` that
checks the owner and counts each request as use. Only the workspace's owner may do any of it.
"""

from __future__ import annotations

import asyncio
import ctypes
import hashlib
import os
import re
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import tornado.web
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.utils import url_path_join
from jupyter_server_proxy.handlers import LocalProxyHandler
from tornado.httpclient import AsyncHTTPClient, HTTPClientError
from tornado.ioloop import PeriodicCallback
from traitlets import Float, List, Unicode, default
from traitlets.config import LoggingConfigurable

from .handlers import LabworksHandler, refuse_visitor

MANAGER_SETTING = "labworks_tensorboards"
RUN_ID = re.compile(r"[0-9a-zA-Z]{1,64}")
BOARD_ID = r"([0-9a-f]{12})"
ARTIFACT_DIR = "tensorboard"
PR_SET_PDEATHSIG = 1
PROXY_SAFE = ":/?#[]@!$&'()*+,;=-._~"  # what jupyter-server-proxy leaves unquoted
USE_TENSORBOARDS = "use its TensorBoards"  # only the owner may (LabworksHandler.owner_may)


@dataclass
class TensorBoard:
    """One running TensorBoard: its id, what it shows, where it listens."""

    id: str
    logdir: Path
    run_id: str | None
    port: int
    url: str
    process: asyncio.subprocess.Process
    started: float
    last_used: float

    def to_json(self, root: Path) -> dict[str, Any]:
        try:
            shown = self.logdir.relative_to(root).as_posix() if self.run_id is None else ""
        except ValueError:
            shown = str(self.logdir)
        return {
            "id": self.id,
            "url": self.url,
            "logdir": shown,
            "run_id": self.run_id,
            "started": self.started,
            "last_used": self.last_used,
        }


class TensorBoardManager(LoggingConfigurable):
    """Starts, finds and stops the TensorBoards of one Jupyter server (one per logdir).

    Used from the server's event loop only; not thread-safe.
    """

    idle_timeout = Float(
        1800.0, help="Seconds without a request after which a TensorBoard is stopped; 0 = never."
    ).tag(config=True)

    start_timeout = Float(60.0, help="Seconds a TensorBoard may take to answer.").tag(config=True)

    command = List(
        Unicode(),
        default_value=[sys.executable, "-m", "tensorboard.main"],
        help="How to start TensorBoard (``--logdir``, ``--port``, ... are added).",
    ).tag(config=True)

    cache_dir = Unicode(
        help="Where a run's TensorBoard artifacts are downloaded (default:"
        " ~/.cache/labworks/tensorboard)."
    ).tag(config=True)

    tracking_uri = Unicode(
        help="MLflow tracking server for run_id (default: $MLFLOW_TRACKING_URI)."
    ).tag(config=True)

    @default("cache_dir")
    def _cache_dir_default(self) -> str:
        return str(Path.home() / ".cache" / "labworks" / "tensorboard")

    @default("tracking_uri")
    def _tracking_uri_default(self) -> str:
        return os.environ.get("MLFLOW_TRACKING_URI", "")

    def __init__(self, base_url: str, root_dir: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url
        self.root = Path(root_dir).expanduser().resolve()
        self.boards: dict[str, TensorBoard] = {}
        self._starting: dict[str, asyncio.Lock] = {}
        self._idle_check: PeriodicCallback | None = None

    # --- opening --------------------------------------------------------------------------

    def local_dir(self, logdir: str) -> Path:
        """The workspace folder `logdir` (relative to the server root); 400 outside it."""
        path = (self.root / logdir).resolve()
        if path != self.root and self.root not in path.parents:
            raise tornado.web.HTTPError(400, f"{logdir!r} is outside the workspace")
        if not path.is_dir():
            raise tornado.web.HTTPError(404, f"no folder {logdir!r} in the workspace")
        return path

    async def open(self, logdir: Path, run_id: str | None = None) -> TensorBoard:
        """The TensorBoard of `logdir`, started when none runs."""
        board_id = hashlib.sha256(str(logdir).encode()).hexdigest()[:12]
        async with self._starting.setdefault(board_id, asyncio.Lock()):
            board = self.boards.get(board_id)
            if board is not None and board.process.returncode is None:
                board.last_used = time.time()
                return board
            board = await self._start(board_id, logdir, run_id)
        self._watch_idle()
        return board

    async def open_run(self, run_id: str) -> TensorBoard:
        """The TensorBoard of a run's ``tensorboard/`` artifacts, downloaded first."""
        if not RUN_ID.fullmatch(run_id):
            raise tornado.web.HTTPError(400, f"{run_id!r} is not an MLflow run id")
        if not self.tracking_uri:
            raise tornado.web.HTTPError(
                503, "no tracking server is configured (MLFLOW_TRACKING_URI is not set)"
            )
        destination = Path(self.cache_dir) / "runs" / run_id
        logdir = destination / ARTIFACT_DIR
        for board in self.boards.values():
            if board.logdir == logdir and board.process.returncode is None:
                board.last_used = time.time()
                return board
        await self._download(run_id, destination)
        if not logdir.is_dir():
            raise tornado.web.HTTPError(404, f"run {run_id} has no {ARTIFACT_DIR}/ artifacts")
        return await self.open(logdir, run_id)

    async def _download(self, run_id: str, destination: Path) -> None:
        """The one seam to the tracking server: ``mlflow artifacts download`` in a subprocess,
        the token in its environment only."""
        destination.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "MLFLOW_TRACKING_TOKEN": os.environ.get("MLFLOW_TRACKING_TOKEN")
            or os.environ.get("JUPYTERHUB_API_TOKEN", ""),
        }
        argv = [sys.executable, "-m", "mlflow", "artifacts", "download", "--run-id", run_id]
        argv += ["--artifact-path", ARTIFACT_DIR, "--dst-path", str(destination)]
        process = await asyncio.create_subprocess_exec(
            *argv,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await process.communicate()
        if process.returncode != 0:
            lines = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
            why = lines[-1] if lines else f"exit status {process.returncode}"
            self.log.warning("labworks: TensorBoard logs of run %s not fetched: %s", run_id, why)
            status = 404 if "RESOURCE_DOES_NOT_EXIST" in why or "not found" in why.lower() else 502
            raise tornado.web.HTTPError(
                status, f"could not fetch the {ARTIFACT_DIR}/ artifacts of run {run_id}: {why}"
            )

    async def _start(self, board_id: str, logdir: Path, run_id: str | None) -> TensorBoard:
        prefix = url_path_join(self.base_url, "labworks", "tensorboard", board_id)
        port = _free_port()
        log = Path(self.cache_dir) / f"{board_id}.log"
        log.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        argv = [*self.command, "--logdir", str(logdir), "--host", "127.0.0.1"]
        argv += ["--port", str(port), "--path_prefix", prefix]
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                preexec_fn=_die_with_parent,
            )
        self.log.info("labworks: TensorBoard %s for %s on port %d", board_id, logdir, port)
        now = time.time()
        board = TensorBoard(board_id, logdir, run_id, port, prefix + "/", process, now, now)
        self.boards[board_id] = board  # stop_all() reaches it while it starts
        try:
            await self._wait_ready(board, log)
        except BaseException:
            self.boards.pop(board_id, None)
            await self._terminate(board)
            raise
        return board

    async def _wait_ready(self, board: TensorBoard, log: Path) -> None:
        """Poll TensorBoard until it answers; 500 with its last log line if it exits or hangs."""
        # As the proxy sends it: the base URL quoted once more (TensorBoard unquotes once).
        url = f"http://127.0.0.1:{board.port}{quote(board.url, safe=PROXY_SAFE)}data/environment"
        deadline = time.monotonic() + self.start_timeout
        client = AsyncHTTPClient()
        while time.monotonic() < deadline and board.process.returncode is None:
            try:
                await client.fetch(url, request_timeout=5.0)
                return
            except (HTTPClientError, OSError):
                await asyncio.sleep(0.2)
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        why = lines[-1] if lines else "no output"
        raise tornado.web.HTTPError(500, f"TensorBoard did not start: {why}")

    # --- using and stopping ---------------------------------------------------------------

    def touch(self, board_id: str) -> TensorBoard:
        """The running TensorBoard `board_id`, marked as used now; 404 if none."""
        board = self.boards.get(board_id)
        if board is None or board.process.returncode is not None:
            raise tornado.web.HTTPError(404, f"no TensorBoard {board_id} runs; open it again")
        board.last_used = time.time()
        return board

    async def stop(self, board_id: str) -> None:
        """Stop TensorBoard `board_id`; 404 if none."""
        board = self.boards.pop(board_id, None)
        if board is None:
            raise tornado.web.HTTPError(404, f"no TensorBoard {board_id} runs")
        await self._terminate(board)

    async def stop_idle(self) -> list[str]:
        """Stop every TensorBoard unused for ``idle_timeout`` (or exited); the ids stopped."""
        now = time.time()
        idle = [
            b.id
            for b in self.boards.values()
            if b.process.returncode is not None
            or (self.idle_timeout > 0 and now - b.last_used >= self.idle_timeout)
        ]
        for board_id in idle:
            self.log.info("labworks: TensorBoard %s idle; stopping it", board_id)
            await self._terminate(self.boards.pop(board_id))
        return idle

    async def stop_all(self) -> None:
        """Stop every TensorBoard (the server stops)."""
        if self._idle_check is not None:
            self._idle_check.stop()
            self._idle_check = None
        boards, self.boards = list(self.boards.values()), {}
        await asyncio.gather(*(self._terminate(b) for b in boards))

    def _watch_idle(self) -> None:
        if self._idle_check is None and self.idle_timeout > 0:
            every = min(60.0, max(self.idle_timeout / 4, 0.1))
            self._idle_check = PeriodicCallback(self.stop_idle, every * 1000)
            self._idle_check.start()

    async def _terminate(self, board: TensorBoard) -> None:
        if board.process.returncode is None:
            board.process.terminate()
            try:
                await asyncio.wait_for(board.process.wait(), 10)
            except TimeoutError:
                board.process.kill()
                await board.process.wait()


def _die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the server dies, even by SIGKILL, so no
    TensorBoard outlives its server."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def manager_of(settings: dict[str, Any]) -> TensorBoardManager:
    """The server's one ``TensorBoardManager``, made on first use from the server's config."""
    manager = settings.get(MANAGER_SETTING)
    if manager is None:
        server = settings["serverapp"]
        manager = TensorBoardManager(settings["base_url"], server.root_dir, config=server.config)
        settings[MANAGER_SETTING] = manager
    return manager


async def stop_tensorboards(settings: dict[str, Any]) -> None:
    """Stop every TensorBoard of the server (its extension stops)."""
    manager = settings.get(MANAGER_SETTING)
    if manager is not None:
        await manager.stop_all()


class TensorBoardBaseHandler(LabworksHandler):
    """Base of the TensorBoard routes: the owner's only, as everything of this module."""

    owner_may = USE_TENSORBOARDS

    @property
    def manager(self) -> TensorBoardManager:
        return manager_of(self.settings)


class TensorBoardsHandler(TensorBoardBaseHandler):
    """``GET /labworks/tensorboard``: what runs; ``POST {"logdir"} | {"run_id"}``: open one."""

    @tornado.web.authenticated
    async def get(self) -> None:
        boards = [b.to_json(self.manager.root) for b in self.manager.boards.values()]
        self.finish({"tensorboards": boards})

    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.json_object()
        logdir, run_id = body.get("logdir"), body.get("run_id")
        if (logdir is None) == (run_id is None):
            raise tornado.web.HTTPError(400, 'send either "logdir" or "run_id"')
        if isinstance(run_id, str):
            board = await self.manager.open_run(run_id)
        elif isinstance(logdir, str):
            board = await self.manager.open(self.manager.local_dir(logdir))
        else:
            raise tornado.web.HTTPError(400, '"logdir" and "run_id" are strings')
        self.finish(board.to_json(self.manager.root))


class TensorBoardHandler(TensorBoardBaseHandler):
    """``DELETE /labworks/tensorboard/<id>``: stop one."""

    @tornado.web.authenticated
    async def delete(self, board_id: str) -> None:
        await self.manager.stop(board_id)
        self.set_status(204)
        self.finish()


class TensorBoardProxyHandler(LocalProxyHandler):  # type: ignore[misc]
    """``<base_url>labworks/tensorboard/<id>/...``: the TensorBoard UI, for the owner only.

    jupyter-server-proxy authenticates the request; TensorBoard's polling does not count as
    the server's activity (an open tab must not keep an idle workspace alive)."""

    def _board(self, board_id: str) -> TensorBoard:
        refuse_visitor(getattr(self.current_user, "username", None), USE_TENSORBOARDS)
        board = manager_of(self.settings).touch(board_id)
        self.proxy_base = url_path_join("labworks", "tensorboard", board_id)
        return board

    async def open(self, board_id: str, path: str) -> Any:
        board = self._board(board_id)
        return await self.proxy_open("localhost", board.port, path)

    # jupyter_server wants every extension method marked as authenticated (the proxy's
    # prepare() authenticates too); each lands in proxy() or open().
    @ws_authenticated
    async def get(self, board_id: str, path: str) -> Any:
        return await super().get(board_id, path)

    @tornado.web.authenticated
    def head(self, board_id: str, path: str) -> Any:
        return self.proxy(board_id, path)

    @tornado.web.authenticated
    def post(self, board_id: str, path: str) -> Any:
        return self.proxy(board_id, path)

    @tornado.web.authenticated
    def put(self, board_id: str, path: str) -> Any:
        return self.proxy(board_id, path)

    @tornado.web.authenticated
    def delete(self, board_id: str, path: str) -> Any:
        return self.proxy(board_id, path)

    @tornado.web.authenticated
    def patch(self, board_id: str, path: str) -> Any:
        return self.proxy(board_id, path)

    @tornado.web.authenticated
    def options(self, board_id: str, path: str) -> Any:
        return self.proxy(board_id, path)

    def proxy(self, board_id: str, path: str) -> Any:
        """Every HTTP method of ``LocalProxyHandler`` lands here with the id in place of a port."""
        board = self._board(board_id)
        return super(LocalProxyHandler, self).proxy("localhost", board.port, path)


tensorboard_handlers: list[tuple[Any, ...]] = [
    (r"/labworks/tensorboard", TensorBoardsHandler),
    (rf"/labworks/tensorboard/{BOARD_ID}", TensorBoardHandler),
    (
        rf"/labworks/tensorboard/{BOARD_ID}(/.*)",
        TensorBoardProxyHandler,
        {"absolute_url": True, "update_last_activity": False},
    ),
]
