"""Notebooks of this workspace that the handlers read or write for other tools.

Two panels need the same two things: a notebook read through the contents manager (so the lab
sends a path, never the content), and notebook files written where nbdime's diff page
(``/nbdime/difftool?base=...&remote=...``) reads them, since nbdime reads files, not the API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import tornado.web
from jupyter_server.utils import ensure_async


async def read_notebook(contents_manager: Any, path: str) -> dict[str, Any]:
    """The notebook at ``path`` (relative to the server's root) as plain JSON, as it is on disk
    (without the ``trusted`` marks the contents manager adds to cells).

    Raises:
        tornado.web.HTTPError: 400 when it is not a readable ``.ipynb``, 404 when it is missing.
    """
    path = path.strip("/")
    if not path:
        raise tornado.web.HTTPError(400, 'give the notebook\'s "path" in this workspace')
    if not path.endswith(".ipynb"):
        raise tornado.web.HTTPError(400, f"{path} is not a notebook (.ipynb)")
    if not await ensure_async(contents_manager.file_exists(path)):
        raise tornado.web.HTTPError(404, f"no notebook at {path} in this workspace")
    try:
        model = await ensure_async(contents_manager.get(path, content=True, type="notebook"))
    except tornado.web.HTTPError as e:
        reason = e.log_message or e.reason or "unreadable"
        raise tornado.web.HTTPError(400, f"cannot read {path} as a notebook: {reason}") from None
    return json.loads(nbformat.writes(nbformat.from_dict(model["content"])))


def write_for_nbdime(contents_manager: Any, relative: str, content: dict[str, Any]) -> str:
    """Write ``content`` to ``relative`` under the server's root, for nbdime; returns the path.

    Raises:
        tornado.web.HTTPError: 501 when the contents manager keeps no files on disk.
    """
    root = getattr(contents_manager, "root_dir", None)
    if not root:
        raise tornado.web.HTTPError(501, "nbdime needs a workspace on a file system")
    target = Path(root, relative)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(content, indent=1), encoding="utf-8")
    return relative
