"""Datasets on the user's own server, for the Data panel: ``/labworks/datasets/...``.

Every route reads the platform's catalog with the workspace owner's token, so it answers to the
owner only: the datasets they may read, one dataset with its versions, one version with its
files. Pushing and downloading files are the kernel SDK's and the CLI's (``labworks.data``,
``labworks datasets``), not the lab's; sharing is ``visibility.py``'s.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import tornado.web

from .handlers import LabworksHandler

OWNER = r"([^/]+)"
NAME = r"([A-Za-z0-9][A-Za-z0-9._-]{0,127})"


def dataset_path(owner: str, name: str) -> str:
    """The platform's path of a dataset, each part quoted."""
    return f"/datasets/{quote(owner, safe='')}/{quote(name, safe='')}"


class DatasetsHandler(LabworksHandler):
    """Base of the dataset routes: the workspace owner's, as the token is."""

    owner_may = "see datasets from it; open your own workspace to see yours"


class DatasetListHandler(DatasetsHandler):
    """``GET /labworks/datasets[?owner=U]``: the datasets I may read, last updated first."""

    @tornado.web.authenticated
    async def get(self) -> None:
        owner = self.get_query_argument("owner", "")
        query = f"?{urlencode({'owner': owner})}" if owner else ""
        self.finish(await self.platform.get(f"/datasets{query}"))


class DatasetHandler(DatasetsHandler):
    """``GET /labworks/datasets/<owner>/<name>``: a dataset with its versions, newest first."""

    @tornado.web.authenticated
    async def get(self, owner: str, name: str) -> None:
        self.finish(await self.platform.get(dataset_path(owner, name)))


class DatasetVersionHandler(DatasetsHandler):
    """``GET /labworks/datasets/<owner>/<name>/versions/<n|latest>``: a version and its files."""

    @tornado.web.authenticated
    async def get(self, owner: str, name: str, version: str) -> None:
        self.finish(await self.platform.get(f"{dataset_path(owner, name)}/versions/{version}"))


datasets_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/datasets", DatasetListHandler),
    (rf"/labworks/datasets/{OWNER}/{NAME}", DatasetHandler),
    (rf"/labworks/datasets/{OWNER}/{NAME}/versions/([1-9][0-9]*|latest)", DatasetVersionHandler),
]
