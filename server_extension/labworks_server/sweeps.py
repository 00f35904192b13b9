"""Sweeps on the user's own server: ``/labworks/sweeps/...``, relayed to the platform's sweeps
API (``/api/v1/sweeps/...``).

Creating a sweep reads the notebook as submitting a job does: the lab sends its path, this
server reads it through the contents manager and forwards its content with the sweep's
settings. Everything else is relayed as it is (the answers pass through unparsed: a sweep's
detail lists every trial). The routes act with the owner's token, so only the owner may use
them; a GET is not activity (the Sweeps panel polls a running sweep).
"""

from __future__ import annotations

import json
from typing import Any

import tornado.web

from .handlers import LabworksHandler
from .jobs import SETTINGS, JobsBaseHandler

SWEEP_ID = r"([0-9a-f]{12})"
# The fields of the platform's POST /sweeps a request from the lab may set (besides the path).
SWEEP_SETTINGS = (
    *SETTINGS, "space", "metric", "direction", "sampler", "pruner", "trials", "parallel",
    "budget_seconds", "seed", "max_cost_usd",
)  # fmt: skip


class SweepsBaseHandler(JobsBaseHandler):
    """The owner's routes, as the jobs routes are; answers are relayed unparsed."""

    owner_may = "run and see sweeps from it; open your own workspace to run yours"

    async def relay(self, method: str, path: str, body: Any = None, status: int = 200) -> None:
        """Send ``method path`` to the platform and answer its JSON as it is (its refusal, with
        its message, through the one error mapper)."""
        data = None if body is None else json.dumps(body).encode()
        answer = await self.platform.forward(method, path, data)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(answer)


class SweepsHandler(SweepsBaseHandler):
    """``GET /labworks/sweeps``: my sweeps and my groups'; ``POST`` sweeps a notebook of this
    workspace: body ``{"path", "space", "metric", "direction", "sampler", "pruner", "trials",
    "parallel", "profile", ...}``."""

    @tornado.web.authenticated
    async def get(self) -> None:
        await self.relay("GET", "/sweeps")

    @tornado.web.authenticated
    async def post(self) -> None:
        request = await self.notebook_settings(SWEEP_SETTINGS)
        await self.relay("POST", "/sweeps", request, status=201)


class SweepHandler(SweepsBaseHandler):
    """``GET /labworks/sweeps/<id>``: status, counts, the best trial and every trial;
    ``DELETE`` deletes the sweep (a running one is stopped first; its jobs stay)."""

    @tornado.web.authenticated
    async def get(self, sweep_id: str) -> None:
        await self.relay("GET", f"/sweeps/{sweep_id}")

    @tornado.web.authenticated
    async def delete(self, sweep_id: str) -> None:
        await self.platform.delete(f"/sweeps/{sweep_id}")
        self.set_status(204)
        self.finish()


class StopHandler(SweepsBaseHandler):
    """``POST /labworks/sweeps/<id>/stop``: no new trials, the running ones cancelled."""

    action = "stop"

    @tornado.web.authenticated
    async def post(self, sweep_id: str) -> None:
        await self.relay("POST", f"/sweeps/{sweep_id}/{self.action}", {})


class ResumeHandler(StopHandler):
    """``POST /labworks/sweeps/<id>/resume``: go on with a stopped or failed sweep."""

    action = "resume"


class ExtendHandler(SweepsBaseHandler):
    """``POST /labworks/sweeps/<id>/extend`` with ``{"trials": N}``: ask for N more trials."""

    @tornado.web.authenticated
    async def post(self, sweep_id: str) -> None:
        trials = self.json_object().get("trials")
        if not isinstance(trials, int) or isinstance(trials, bool):
            raise tornado.web.HTTPError(400, 'send {"trials": <how many more>}')
        await self.relay("POST", f"/sweeps/{sweep_id}/extend", {"trials": trials})


class SweepVisibilityHandler(SweepsBaseHandler):
    """``GET /labworks/sweeps/<id>/visibility``: ``{"name", "owner", "visibility", "yours"}``,
    the shape the lab's Share dialog reads for experiments and models; ``PUT`` with
    ``{"visibility": ...}`` changes it and answers the same."""

    @tornado.web.authenticated
    async def get(self, sweep_id: str) -> None:
        self.finish(self._shared(await self.platform.get(f"/sweeps/{sweep_id}")))

    @tornado.web.authenticated
    async def put(self, sweep_id: str) -> None:
        visibility = self.json_object().get("visibility")
        if not isinstance(visibility, str):
            raise tornado.web.HTTPError(
                400, 'send {"visibility": "private" | "group:<name>" | "public"}'
            )
        path = f"/sweeps/{sweep_id}/visibility"
        self.finish(self._shared(await self.platform.put(path, {"visibility": visibility})))

    def _shared(self, sweep: dict[str, Any]) -> dict[str, Any]:
        owner = sweep.get("owner")
        return {
            "name": sweep.get("name", ""),
            "owner": owner,
            "visibility": sweep.get("visibility", "private"),
            "yours": owner is not None and owner == self.username,
        }


sweeps_handlers: list[tuple[str, type[LabworksHandler]]] = [
    (r"/labworks/sweeps", SweepsHandler),
    (rf"/labworks/sweeps/{SWEEP_ID}", SweepHandler),
    (rf"/labworks/sweeps/{SWEEP_ID}/stop", StopHandler),
    (rf"/labworks/sweeps/{SWEEP_ID}/resume", ResumeHandler),
    (rf"/labworks/sweeps/{SWEEP_ID}/extend", ExtendHandler),
    (rf"/labworks/sweeps/{SWEEP_ID}/visibility", SweepVisibilityHandler),
]
