"""The model server around the served model: KServe's REST server and data plane with the
request checks before decoding, the body limit, the socket (0660) bound before the model loads,
a quiet log, and one line on stderr for a model that cannot load."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import socket
import stat
import sys
import threading
import warnings
from typing import Any, NoReturn

import orjson
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kserve.constants.constants import INFERENCE_CONTENT_LENGTH_HEADER
from kserve.errors import InferenceError, InvalidInput
from kserve.model_repository import ModelRepository
from kserve.model_server import app as kserve_app
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.infer_type import InferInput, InferRequest
from kserve.protocol.model_repository_extension import ModelRepositoryExtension
from kserve.protocol.rest.server import RESTServer
from kserve.protocol.rest.v2_datamodels import InferenceRequest
from runtime_checks import DATATYPES
from runtime_model import ServedModel

log = logging.getLogger("labworks.serving")


class CheckedDataPlane(DataPlane):
    """KServe's DataPlane, with the checks before decoding, readiness and the version."""

    def __init__(self, registry: ModelRepository, model: ServedModel):
        super().__init__(model_registry=registry)
        self.model = model

    async def ready(self) -> bool:
        return self.model.ready

    async def model_metadata(self, model_name: str) -> dict:
        metadata = await super().model_metadata(model_name)
        metadata["versions"] = [self.model.version]
        metadata["platform"] = f"mlflow_{self.model.flavor}"
        return metadata

    def decode(self, body, headers, protocol_version="v1", model_name=None):  # type: ignore[no-untyped-def]
        checker = self.model.checker
        if checker is not None and isinstance(body, InferenceRequest):
            checker.check([(i.name, i.datatype, i.shape, i.data) for i in body.inputs])
        elif isinstance(body, bytes) and protocol_version == "v2":
            headers = dict(headers or {})
            # The binary extension: without the header the whole body is the JSON (a client
            # that sends no Content-Type, as tritonclient does, gets bytes here; KServe refuses).
            json_length = headers.setdefault(INFERENCE_CONTENT_LENGTH_HEADER, str(len(body)))
            if checker is not None:
                checker.check_binary(body, json_length)
        return super().decode(body, headers, protocol_version, model_name)


class BodyLimit:
    """ASGI middleware: 413 for a body over `max_body` bytes, from Content-Length before reading
    it, else counted as it arrives (chunked)."""

    def __init__(self, app: Any, max_body: int):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return await self._refuse(send, 400, "bad Content-Length")
            if int(length) > self.max_body:
                return await self._refuse(send, 413, f"request body over {self.max_body} bytes")
            return await self.app(scope, receive, send)
        if b"transfer-encoding" not in headers:
            return await self.app(scope, receive, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            size += len(message.get("body", b""))
            if size > self.max_body:
                return await self._refuse(send, 413, f"request body over {self.max_body} bytes")
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        return await self.app(scope, _replaying(b"".join(chunks), receive), send)

    @staticmethod
    async def _refuse(send: Any, status: int, message: str) -> None:
        await _answer(send, status, {"error": message}, close=True)


class FastInfer:
    """ASGI middleware: a plain JSON inference request of the served model is answered here, by
    the same model and checks and KServe's own request and response types (InferRequest,
    `Model.__call__`, InferResponse.to_rest), without KServe's FastAPI route: its pydantic
    validation of the request and of the response and its data plane cost more than a small
    model's prediction. Anything else (the binary extension, cloud events, requested outputs,
    parameters, FP16 as JSON, a body that is no JSON object, other paths) goes on to KServe."""

    def __init__(self, app: Any, model: ServedModel):
        self.app, self.model = app, model
        self.path = f"/v2/models/{model.name}/infer"

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        kind = headers.get(b"content-type", b"application/json").split(b";")[0].strip().lower()
        if kind != b"application/json" or INFERENCE_CONTENT_LENGTH_HEADER.encode() in headers:
            return await self.app(scope, receive, send)
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        request = _plain_request(body)
        if request is None:
            return await self.app(scope, _replaying(body, receive), send)
        status, answer = await self._infer(request)
        await _answer(send, status, answer)

    async def _infer(self, request: dict) -> tuple[int, dict]:
        model = self.model
        if not model.ready or model.checker is None:
            return 503, {"error": f"Model with name {model.name} is not ready."}
        inputs = request["inputs"]
        try:
            model.checker.check(
                [(i.get("name"), i.get("datatype"), i.get("shape"), i["data"]) for i in inputs]
            )
            infer = InferRequest(
                model_name=model.name, request_id=request.get("id"),
                infer_inputs=[InferInput(i["name"], i["shape"], i["datatype"], i["data"])
                              for i in inputs],
            )  # fmt: skip
            response, _ = await model(infer)
            answer, _ = response.to_rest()
            # as KServe's InferenceResponse serializes it: every field, null where unset
            answer.setdefault("parameters", None)
            for output in answer["outputs"]:
                output.setdefault("parameters", None)
        except InvalidInput as exc:
            return 400, {"error": str(exc)}
        except InferenceError as exc:
            return 500, {"error": str(exc)}
        except Exception as exc:  # as KServe's generic handler answers
            log.warning("inference failed: %s: %s", type(exc).__name__, exc)
            return 500, {"error": f"{type(exc).__name__} : {exc}"}
        return 200, answer


INPUT_FIELDS = {"name", "shape", "datatype", "data"}


def _plain_request(body: bytes) -> dict | None:
    """The request when FastInfer may answer it (see its docstring), else None."""
    try:
        request = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(request, dict) or not set(request) <= {"id", "inputs"}:
        return None
    inputs = request.get("inputs")
    if not isinstance(inputs, list) or not inputs or not isinstance(request.get("id", ""), str):
        return None
    if not all(isinstance(i, dict) and _plain_input(i) for i in inputs):
        return None
    return request


def _plain_input(item: dict) -> bool:
    """An input as KServe's model of a request would take it (else KServe says what is wrong),
    not FP16 (which KServe refuses as JSON)."""
    return (
        set(item) == INPUT_FIELDS
        and isinstance(item["name"], str)
        and item["datatype"] in DATATYPES - {"FP16"}
        and isinstance(item["shape"], list)
        and all(type(dim) is int for dim in item["shape"])
        and isinstance(item["data"], list)
    )


def _replaying(body: bytes, receive: Any) -> Any:
    """`receive` for an app after the body was read: the body once, then the real receive."""
    replayed = False

    async def replay() -> dict:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _answer(send: Any, status: int, answer: dict, close: bool = False) -> None:
    body = orjson.dumps(answer)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _invalid_body(_request: Any, exc: RequestValidationError) -> JSONResponse:
    """A body that is no inference request: 400 naming the field (FastAPI would say 422)."""
    errors = list(exc.errors())
    first = next((e for e in errors if "InferenceRequest" in e.get("loc", ())), errors[0])
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "InferenceRequest"))
    return JSONResponse({"error": f"{where or 'body'}: {first.get('msg')}"}, status_code=400)


def _bind(args: argparse.Namespace) -> socket.socket:
    if args.port is not None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((args.host, args.port))
    else:
        path = args.socket
        try:  # a socket left by a crashed server is replaced; anything else is an error
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o117)  # never more than 0660, even for an instant
        try:
            sock.bind(path)
        finally:
            os.umask(old)
        os.chmod(path, 0o660)
    sock.listen(2048)
    return sock


def _logging(level: str) -> None:
    """stderr is the deployment's log: our warnings, and our one line per request at DEBUG."""
    from fastapi.exceptions import FastAPIDeprecationWarning

    warnings.simplefilter("ignore", FastAPIDeprecationWarning)  # kserve's ORJSONResponse, per call
    logging.basicConfig(stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(level.upper())
    # KServe logs every refused request with its traceback at ERROR, and lines per request: the
    # log would drown. Its failures reach the log as our one-line warnings instead.
    for name in ("kserve", "kserve.trace", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)


def _fail(message: str, path: str | None = None) -> NoReturn:
    """The one line on stderr the platform shows, then exit 1 at once (from any thread)."""
    sys.stderr.write(f"labworks-serving: {message}\n")
    sys.stderr.flush()
    if path:
        with contextlib.suppress(OSError):
            os.unlink(path)
    os._exit(1)


def main(args: argparse.Namespace) -> int:
    _logging(args.log_level)
    try:
        sock = _bind(args)
    except OSError as exc:
        _fail(f"cannot listen on {args.socket or args.port}: {exc}")
    model = ServedModel(args)
    registry = ModelRepository()
    registry.update(model)
    dataplane = CheckedDataPlane(registry, model)
    server = RESTServer("kserve.model_server:app", dataplane, ModelRepositoryExtension(registry),
                        http_port=0, timeout_keep_alive=65)  # fmt: skip
    server.config.access_log = False
    kserve_app.add_middleware(FastInfer, model=model)
    kserve_app.add_middleware(BodyLimit, max_body=args.max_body)  # outermost: limits first
    kserve_app.add_exception_handler(RequestValidationError, _invalid_body)  # type: ignore[arg-type]

    def load() -> None:
        try:
            model.load()
        except BaseException as exc:  # any failure: the one line, exit 1
            reason = (str(exc).strip().splitlines() or [""])[0]
            _fail(
                f"cannot load model {args.model_uri}: {type(exc).__name__}: {reason}", args.socket
            )

    threading.Thread(target=load, name="load", daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        if args.socket:
            with contextlib.suppress(OSError):
                os.unlink(args.socket)
    return 0
