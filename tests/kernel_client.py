"""Run code in a Jupyter kernel over the server's websocket, as JupyterLab does."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect


def run_code(ws_url: str, token: str, code: str, timeout: float = 60) -> str:
    """Execute `code` in the kernel at `ws_url` (…/api/kernels/<id>/channels); return stdout."""
    return asyncio.run(asyncio.wait_for(_run(ws_url, token, code), timeout))


async def _run(ws_url: str, token: str, code: str) -> str:
    request = HTTPRequest(ws_url, headers={"Authorization": f"token {token}"})
    conn = await websocket_connect(request)
    msg_id = uuid.uuid4().hex
    conn.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                    "session": uuid.uuid4().hex, "version": "5.3",
                    "date": datetime.now(UTC).isoformat(),
                },
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": False,
                            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
            }
        )
    )  # fmt: skip
    out = []
    replied = idle = False  # output is complete once the kernel is idle again (iopub)
    try:
        while not (replied and idle):
            raw = await conn.read_message()
            if raw is None:
                raise ConnectionError("kernel websocket closed")
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise RuntimeError("\n".join(msg["content"]["traceback"]))
            elif kind == "execute_reply":
                replied = True
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        return "".join(out)
    finally:
        conn.close()
