"""`DataSources`: the configuration of data sources, their sealed credentials, one open backend
per source, and the checks a new or changed source passes before it is stored.

Access choices (docs/admin/data-sources.md): objects of S3 sources are read by the SDK through
short-lived presigned URLs of one object (the platform never holds the bytes, so reading is as
fast as S3 is); folder sources stream through the platform with Range; tables are queried by the
platform in a read-only transaction and answered as rows. Credentials never leave the service.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError
from traitlets import Bool, Dict, Float, Integer, List, Unicode
from traitlets.config import LoggingConfigurable

from ..access import Forbidden, Invalid, Refused, Viewer
from ..jobs.notify import EMAIL, WEBHOOK, Notice, Notifier, is_private_address
from ..store import Store
from ..store import jobs as job_store
from ..store.sources import FOLDER, POSTGRES, S3, DataSource
from ..validation import error_message
from .backends import SourceBackend, backend_for
from .models import CONFIGS, CREDENTIALS, SourceCreate
from .secrets import KEY_ENV, SourceSecrets, key_file


class DataSources(LoggingConfigurable):
    """See the module docstring."""

    secret_key = Unicode(
        "", help=f"The key that seals sources' credentials (a Fernet key or a passphrase); empty:"
        f" ${KEY_ENV}, else a key file made in the state directory (secrets/sources.key).",
    ).tag(config=True)  # fmt: skip
    previous_secret_keys = List(
        Unicode(), help="Older keys: credentials they sealed still open (key rotation)."
    ).tag(config=True)
    registrars_group = Unicode(
        "data-owners",
        help="Members of this group register s3 and postgres sources; administrators register"
        " any kind (folders only they). Empty: administrators only.",
    ).tag(config=True)
    folder_roots = List(
        Unicode(), help="Folder sources must lie under one of these directories; empty: any."
    ).tag(config=True)
    allow_private_endpoints = Bool(
        False,
        help="Let non-administrators register S3 endpoints and PostgreSQL hosts on loopback,"
        " private or link-local addresses (the platform's own network).",
    ).tag(config=True)
    url_lifetime = Integer(300, help="Seconds a presigned object URL lives.").tag(config=True)
    connect_timeout = Float(5.0, help="Seconds to wait for a source to answer.").tag(config=True)
    query_timeout = Float(30.0, help="Seconds a query may run.").tag(config=True)
    max_rows = Integer(100_000, help="Rows a query or a table snapshot answers at most.").tag(
        config=True
    )
    max_preview_bytes = Integer(
        4 * 1024 * 1024, help="Bytes a preview reads of an object at most."
    ).tag(config=True)
    sources = List(
        Dict(),
        help="Sources declared here, registered or brought up to date at each start of the"
        " platform service: each {name, kind, owner, description, tags, config,"
        " credentials_env}, where credentials_env maps a credential (secret_access_key,"
        " password, ...) to the environment variable holding it (the hub passes those on);"
        " credentials are never written in the config.",
    ).tag(config=True)
    state_dir = Unicode(".", help="The platform's state directory (the key file).")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._secrets: SourceSecrets | None = None
        self._backends: dict[str, tuple[object, SourceBackend]] = {}
        self._lock = threading.Lock()
        self._notices: set[asyncio.Task] = set()  # being sent; held so they finish

    @property
    def secrets(self) -> SourceSecrets:
        if self._secrets is None:
            key = self.secret_key or os.environ.get(KEY_ENV) or key_file(self.state_dir)
            self._secrets = SourceSecrets([key, *self.previous_secret_keys])
        return self._secrets

    # --- backends ---------------------------------------------------------------------------

    def backend(self, source: DataSource) -> SourceBackend:
        """The source's open backend, made again when the source changed."""
        version = source.updated_at
        with self._lock:
            held = self._backends.get(source.name)
            if held is not None and held[0] == version:
                return held[1]
        made = self._build(source.kind, source.config, self.secrets.open(source.credentials))
        with self._lock:
            old = self._backends.get(source.name)
            self._backends[source.name] = (version, made)
        if old is not None:
            old[1].close()
        return made

    def forget(self, name: str) -> None:
        with self._lock:
            held = self._backends.pop(name, None)
        if held is not None:
            held[1].close()

    def close(self) -> None:
        with self._lock:
            held, self._backends = list(self._backends.values()), {}
        for _, backend in held:
            backend.close()

    def _build(
        self, kind: str, config: Mapping[str, Any], credentials: Mapping[str, Any]
    ) -> SourceBackend:
        return backend_for(
            kind, dict(config), dict(credentials),
            connect_timeout=self.connect_timeout, query_timeout=self.query_timeout,
        )  # fmt: skip

    # --- checks of what is registered -------------------------------------------------------

    def checked(
        self, kind: str, config: dict[str, Any], credentials: dict[str, Any] | None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The kind's config and credentials, validated; Invalid saying what is wrong."""
        config = _parse(CONFIGS[kind], config, f"{kind} config").model_dump()
        model = CREDENTIALS[kind]
        if model is None:
            if credentials:
                raise Invalid(f"{kind} sources take no credentials")
            return config, {}
        if not credentials:
            raise Invalid(f"{kind} sources need credentials: {', '.join(_required(model))}")
        parsed = _parse(model, credentials, f"{kind} credentials")
        return config, parsed.model_dump(exclude_none=True)

    async def check_reachable(
        self, viewer: Viewer, kind: str, config: dict[str, Any], credentials: dict[str, Any]
    ) -> None:
        """Invalid unless this platform may and can reach the source as configured."""
        if kind == FOLDER:
            self._check_folder(config["path"])
        elif not (viewer.admin or self.allow_private_endpoints):
            host = _host(kind, config)
            if host is not None and await _private_host(host):
                raise Forbidden(
                    f"{host} is a loopback, private or link-local address: only administrators"
                    " register sources there (c.DataSources.allow_private_endpoints)"
                )

        def probe() -> None:
            backend = self._build(kind, config, credentials)
            try:
                backend.check()
            finally:
                backend.close()

        try:
            await asyncio.to_thread(probe)
        except Refused as e:
            raise Invalid(f"the platform cannot use this source: {e.message}") from None

    def _check_folder(self, path: str) -> None:
        roots = [os.path.normpath(r) for r in self.folder_roots]
        if roots and not any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots):
            raise Invalid(f"folder sources must lie under {', '.join(roots)}, not {path}")

    # --- sources from the config ------------------------------------------------------------

    def declared(self, environ: Mapping[str, str]) -> list[dict[str, Any]]:
        """`sources` checked, their credentials read from `environ` (`catalog.declare` seals
        them). A bad entry raises Invalid naming it."""
        found = []
        for entry in self.sources:
            name = str(entry.get("name", ""))
            try:
                body = SourceCreate.model_validate(
                    {k: v for k, v in entry.items() if k != "credentials_env"}
                )
                wanted = entry.get("credentials_env") or {}
                missing = [var for var in wanted.values() if not environ.get(var)]
                if missing:
                    raise Invalid(f"set {', '.join(missing)} for its credentials")
                credentials = {field: environ[var] for field, var in wanted.items()}
                config, credentials = self.checked(body.kind, body.config, credentials or None)
            except (ValidationError, Invalid) as e:
                detail = e.message if isinstance(e, Invalid) else error_message(e.errors())
                raise Invalid(f"c.DataSources.sources: {name or 'an entry'}: {detail}") from None
            found.append({
                "name": body.name, "kind": body.kind, "owner": body.owner or "admin",
                "description": body.description, "tags": body.tags, "config": config,
                "credentials": credentials,
            })  # fmt: skip
        return found

    # --- notices ----------------------------------------------------------------------------

    def tell_later(
        self, store: Store, notifiers: Mapping[str, Notifier], user: str, notice: Notice
    ) -> None:
        """Send `notice` to `user` in the background: the request that caused it is answered
        at once."""
        task = asyncio.create_task(self.tell(store, notifiers, user, notice))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def tell(
        self, store: Store, notifiers: Mapping[str, Notifier], user: str, notice: Notice
    ) -> None:
        """Send `notice` to `user`'s notification settings (the jobs' webhook and e-mail)."""
        settings = await store.run(job_store.notify_settings, user)
        where = [(WEBHOOK, settings.webhook_url), (EMAIL, settings.email or "")]
        sends = [
            notifiers[channel].send(destination, notice)
            for channel, destination in where
            if destination and channel in notifiers and notifiers[channel].available
        ]
        for result in await asyncio.gather(*sends, return_exceptions=True):
            if isinstance(result, BaseException):
                self.log.warning("Could not send %s to %s: %s", notice.event, user, result)


def _parse(model: type[BaseModel], data: dict[str, Any], what: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise Invalid(f"invalid {what}: {error_message(e.errors())}") from None


def _required(model: type[BaseModel]) -> list[str]:
    return [name for name, field in model.model_fields.items() if field.is_required()]


def _host(kind: str, config: dict[str, Any]) -> str | None:
    if kind == S3:
        endpoint = config.get("endpoint_url")
        return urlsplit(endpoint).hostname if endpoint else None
    if kind == POSTGRES:
        return config["host"]
    return None


async def _private_host(host: str) -> bool:
    try:
        return is_private_address(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError:
        return False  # the reachability probe fails and says so
    return any(is_private_address(ipaddress.ip_address(info[4][0])) for info in infos)
