"""The ``ExtensionApp`` that wires the Labworks handlers and settings into jupyter_server."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Unicode, default

from .client import PlatformClient
from .handlers import CLIENT_SETTING, STARTED_SETTING
from .handlers import handlers as labworks_handlers


class LabworksServerApp(ExtensionApp):
    """Serves ``/labworks/...`` on the user's server and forwards to the platform service.

    Settings it adds to the web app: ``labworks_client`` (the one ``PlatformClient``) and
    ``labworks_started_at`` (the ServerApp start time, an aware datetime).
    """

    name = "labworks_server"

    api_url = Unicode(
        help="Root of the platform service REST API (default: $LABWORKS_API_URL).",
    ).tag(config=True)

    request_timeout = Float(
        10.0, help="Seconds to wait for the platform service before giving up."
    ).tag(config=True)

    @default("api_url")
    def _api_url_default(self) -> str:
        return os.environ.get("LABWORKS_API_URL", "")

    def initialize_settings(self) -> None:
        """Build the platform client and record when the server started."""
        assert self.serverapp is not None
        started = self.serverapp.web_app.settings.get("started")
        if not isinstance(started, datetime):
            started = datetime.now(UTC)
        client = PlatformClient(
            self.api_url,
            token=os.environ.get("JUPYTERHUB_API_TOKEN", ""),
            timeout=self.request_timeout,
        )
        self.settings.update({CLIENT_SETTING: client, STARTED_SETTING: started})
        if not self.api_url:
            self.log.warning("labworks: LABWORKS_API_URL is not set; platform calls will fail")
        else:
            self.log.info("labworks: forwarding to the platform service at %s", self.api_url)

    def initialize_handlers(self) -> None:
        """Register the routes of the ``handlers`` table."""
        self.handlers.extend(labworks_handlers)
