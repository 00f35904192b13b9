"""The contract of a serving backend: what the serving service (service.py) asks of the thing
that runs model servers. Two implement it: `LocalServing` (local.py, a process per server) and
`KServeBackend` (kube_backend.py, a KServe InferenceService per server)."""

from __future__ import annotations

from typing import Any, Protocol

from .client import ModelClient
from .spec import ServerSpec


class ServingBackend(Protocol):
    """Runs one model server per (deployment, version).

    - `start(spec, generation, env)` starts the server of `spec` and returns its state, a
      JSON-able dict the service keeps in the store; `env` holds the server's variables,
      among them a hub token (`MLFLOW_TRACKING_TOKEN`) that must not be written anywhere
      others can read. Raises `ServingError` (user-facing message) when it cannot. Called
      again with a higher `generation` after the service stopped a dead server.
    - `probe(state)` answers "ready", "starting" or "dead" (it will not become ready).
    - `client(state)` is a `ModelClient` (client.py) whose base URL is the server: the gateway
      sends the Open Inference Protocol v2 paths (`/v2/models/<name>/infer`) through it. Kept
      clients may be reused across requests.
    - `log_tail(state)` says why a dead server died (its last output), "" when unknown.
    - `stop(state)` stops the server and forgets it; stopping a server that is gone is not an
      error.
    - `close()` closes what the backend holds; the servers keep running.

    A state outlives the platform: after a restart, `probe`, `client` and `stop` work from the
    stored state alone (the server is re-attached, never started twice).
    """

    async def start(
        self, spec: ServerSpec, generation: int, env: dict[str, str]
    ) -> dict[str, Any]: ...
    async def probe(self, state: dict[str, Any]) -> str: ...
    def client(self, state: dict[str, Any]) -> ModelClient: ...
    async def log_tail(self, state: dict[str, Any]) -> str: ...
    async def stop(self, state: dict[str, Any]) -> None: ...
    async def close(self) -> None: ...
