"""The notebook gallery on the user's own server: ``/labworks/gallery/...``.

Publishing reads the notebook from this server's contents manager (the lab sends its path);
everything else is forwarded to the platform. Two routes write into the workspace: an editable
copy of a version (``Gallery/<group>/<name>-v<N>.ipynb``), and the two versions nbdime's diff
page reads (``.labworks/gallery/<entry>/v<N>.ipynb``; nbdime reads files, not the API).
"""

from __future__ import annotations

import posixpath
from urllib.parse import urlencode

import tornado.web
from jupyter_server.utils import ensure_async

from .handlers import LabworksHandler
from .notebooks import read_notebook, write_for_nbdime
from .sharing import MANAGE_SHARING

DIFF_DIR = ".labworks/gallery"
COPY_DIR = "Gallery"


class GalleryBaseHandler(LabworksHandler):
    """The gallery routes publish and copy with the owner's token: the owner's only."""

    owner_may = MANAGE_SHARING


class GalleryHandler(GalleryBaseHandler):
    """``GET /labworks/gallery[?group=G]``: entries of my groups; ``POST`` publishes a notebook."""

    @tornado.web.authenticated
    async def get(self) -> None:
        group = self.get_query_argument("group", "")
        query = f"?{urlencode({'group': group})}" if group else ""
        self.finish(await self.platform.get(f"/gallery{query}"))

    @tornado.web.authenticated
    async def post(self) -> None:
        """Body: ``{"path": "<notebook in this workspace>", "group": G, "message": M}``."""
        body = self.json_object()
        path, group = body.get("path"), body.get("group")
        if not isinstance(path, str) or not path.strip("/"):
            raise tornado.web.HTTPError(400, 'give the notebook\'s "path" in this workspace')
        if not isinstance(group, str) or not group:
            raise tornado.web.HTTPError(400, 'give the "group" to publish to')
        message = body.get("message") or ""
        content = await read_notebook(self.contents_manager, path)
        published = await self.platform.post(
            "/gallery",
            {"group": group, "name": posixpath.basename(path), "content": content,
             "message": str(message)},
        )  # fmt: skip
        self.set_status(201)
        self.finish(published)


class EntryHandler(GalleryBaseHandler):
    """``GET /labworks/gallery/<id>``: an entry and its versions; ``DELETE`` unpublishes it."""

    @tornado.web.authenticated
    async def get(self, entry_id: str) -> None:
        self.finish(await self.platform.get(f"/gallery/{entry_id}"))

    @tornado.web.authenticated
    async def delete(self, entry_id: str) -> None:
        await self.platform.delete(f"/gallery/{entry_id}")
        self.set_status(204)
        self.finish()


class VersionHandler(GalleryBaseHandler):
    """``GET /labworks/gallery/<id>/versions/<n>``: one version with its notebook."""

    @tornado.web.authenticated
    async def get(self, entry_id: str, number: str) -> None:
        self.finish(await self.platform.get(f"/gallery/{entry_id}/versions/{number}"))


class CopyHandler(GalleryBaseHandler):
    """``POST /labworks/gallery/<id>/versions/<n>/copy``: an editable copy in the workspace.

    Answers ``{"path", "created"}``; an existing copy is kept as it is (it may hold edits).
    """

    @tornado.web.authenticated
    async def post(self, entry_id: str, number: str) -> None:
        version = await self.platform.get(f"/gallery/{entry_id}/versions/{number}")
        stem = posixpath.splitext(version["name"])[0]
        folder = f"{COPY_DIR}/{version['group']}"
        path = f"{folder}/{stem}-v{version['number']}.ipynb"
        cm = self.contents_manager
        created = not await ensure_async(cm.file_exists(path))
        if created:
            for directory in (COPY_DIR, folder):
                if not await ensure_async(cm.dir_exists(directory)):
                    await ensure_async(cm.save({"type": "directory"}, directory))
            model = {"type": "notebook", "format": "json", "content": version["content"]}
            await ensure_async(cm.save(model, path))
        self.set_status(201 if created else 200)
        self.finish({"path": path, "created": created})


class DiffHandler(GalleryBaseHandler):
    """``GET /labworks/gallery/<id>/diff?base=N&remote=M``: nbdime's diff (JSON and text)."""

    @tornado.web.authenticated
    async def get(self, entry_id: str) -> None:
        base, remote = _version_args(self)
        query = urlencode({"base": base, "remote": remote})
        self.finish(await self.platform.get(f"/gallery/{entry_id}/diff?{query}"))


class DiffFilesHandler(GalleryBaseHandler):
    """``POST /labworks/gallery/<id>/diff-files?base=N&remote=M``: write both versions where
    nbdime's diff page (``/nbdime/difftool``) reads them; answers their paths."""

    @tornado.web.authenticated
    async def post(self, entry_id: str) -> None:
        paths = {}
        for side, number in zip(("base", "remote"), _version_args(self), strict=True):
            version = await self.platform.get(f"/gallery/{entry_id}/versions/{number}")
            relative = f"{DIFF_DIR}/{int(entry_id)}/v{int(number)}.ipynb"
            paths[side] = write_for_nbdime(self.contents_manager, relative, version["content"])
        self.finish(paths)


def _version_args(handler: tornado.web.RequestHandler) -> tuple[int, int]:
    try:
        return int(handler.get_query_argument("base")), int(handler.get_query_argument("remote"))
    except (tornado.web.MissingArgumentError, ValueError):
        raise tornado.web.HTTPError(400, "give two version numbers: ?base=N&remote=M") from None


gallery_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/gallery", GalleryHandler),
    (r"/labworks/gallery/(\d+)", EntryHandler),
    (r"/labworks/gallery/(\d+)/versions/(\d+)", VersionHandler),
    (r"/labworks/gallery/(\d+)/versions/(\d+)/copy", CopyHandler),
    (r"/labworks/gallery/(\d+)/diff", DiffHandler),
    (r"/labworks/gallery/(\d+)/diff-files", DiffFilesHandler),
]
