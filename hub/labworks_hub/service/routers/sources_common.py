"""What the data sources routers share (sources.py: the catalog, grants, requests and audit;
source_data.py: reading, writing and snapshots): the sources' configuration and backends, and
`SourceAccess`, which decides one access and writes its audit row, refusals included.

Who may do what is decided in sources/catalog.py; the I/O is sources/backends.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Path, Request

from ..access import NAME_RE, Forbidden, Refused, Unavailable, Viewer
from ..sources import audit, catalog
from ..sources.backends import SourceBackend
from ..sources.service import DataSources
from ..store import Store
from ..store.sources import DataSource
from .jobs_common import service_of

log = logging.getLogger(__name__)
T = TypeVar("T")
SourceName = Path(pattern=NAME_RE.pattern, description="The source's name.")


def sources_of(app: FastAPI) -> DataSources:
    """The sources' configuration and backends, made on first use with the platform's config."""
    found = getattr(app.state, "data_sources", None)
    if found is None:
        config = service_of(app).config
        found = app.state.data_sources = DataSources(
            config=config, state_dir=app.state.settings.state_dir
        )
    return found


def data_sources(request: Request) -> DataSources:
    return sources_of(request.app)


def store_of(request: Request) -> Store:
    return request.app.state.store


class SourceAccess:
    """One access to one source: decides it (recording a refusal), runs its I/O off the event
    loop, and records what it did."""

    def __init__(self, request: Request, who: Viewer, name: str, action: str, obj: str) -> None:
        self.request, self.who, self.name, self.action, self.object = (
            request, who, name, action, obj,
        )  # fmt: skip
        self.sources = sources_of(request.app)
        self.source: DataSource | None = None

    async def allow(self, need: str = "read") -> SourceBackend:
        try:
            self.source = await store_of(self.request).run(
                catalog.require, self.who, self.name, need
            )
        except Forbidden as e:
            await self.record(allowed=False, reason=e.message)
            raise
        return self.sources.backend(self.source)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` in a thread; a failure is recorded and answered by its kind (an
        unexpected one as 503 naming the source, its detail in the log only)."""
        try:
            return await asyncio.to_thread(work, *args)
        except Refused as e:
            await self.record(reason=f"failed: {e.message}")
            if isinstance(e, Unavailable):  # a source that does not answer: say which
                raise Unavailable(f"source {self.name!r}: {e.message}") from None
            raise
        except Exception as e:  # a driver's error: its text may name hosts, never shown
            log.warning("Source %s: %s of %r failed: %r", self.name, self.action, self.object, e)
            await self.record(reason=f"failed: {type(e).__name__}")
            raise Unavailable(
                f"source {self.name!r} failed to answer ({type(e).__name__}); try again, or"
                " ask its owner to check it"
            ) from None

    async def record(self, allowed: bool = True, reason: str = "", **counts: Any) -> None:
        await store_of(self.request).run(self.record_in, allowed, reason, counts)

    def record_in(self, session: Any, allowed: bool, reason: str, counts: dict) -> None:
        origin = audit.clean_origin(self.request.headers.get("x-labworks-origin"))
        audit.record(
            session, source=self.name, user=self.who.name or "(service)", action=self.action,
            object=self.object, allowed=allowed, reason=reason, origin=origin,
            **counts,
        )  # fmt: skip
