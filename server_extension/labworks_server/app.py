"""The ``ExtensionApp`` that wires the Labworks handlers and settings into jupyter_server."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from jupyter_server.extension.application import ExtensionApp
from tornado.ioloop import PeriodicCallback
from traitlets import Float, Integer, Unicode, default

from .admin import admin_handlers
from .client import PlatformClient
from .cost import cost_handlers
from .datasets import datasets_handlers
from .experiments import ARTIFACT_LIMIT_SETTING, experiments_handlers
from .gallery import gallery_handlers
from .handlers import CLIENT_SETTING, STARTED_SETTING
from .handlers import handlers as labworks_handlers
from .idle import (
    MONITOR_SETTING,
    IdleMonitor,
    check_interval,
    idle_handlers,
    stop_idle_server,
    timeout_from_env,
)
from .jobs import jobs_handlers
from .models import models_handlers
from .nbdime_git import with_git_ceiling, with_nbdime_git
from .sharing import limit_hub_auth_cache, sharing_handlers
from .sources import sources_handlers
from .sweeps import sweeps_handlers
from .tensorboard import stop_tensorboards, tensorboard_handlers
from .tracking import MAX_ARTIFACT_BYTES
from .visibility import visibility_handlers


class LabworksServerApp(ExtensionApp):
    """Serves ``/labworks/...`` on the user's server and forwards to the platform service.

    Settings it adds to the web app: ``labworks_client`` (the one ``PlatformClient``),
    ``labworks_started_at`` (the ServerApp start time, an aware datetime) and
    ``labworks_idle_monitor`` (the ``IdleMonitor`` that stops the server when idle).
    """

    name = "labworks_server"

    api_url = Unicode(
        help="Root of the platform service REST API (default: $LABWORKS_API_URL).",
    ).tag(config=True)

    request_timeout = Float(
        10.0, help="Seconds to wait for the platform service before giving up."
    ).tag(config=True)

    idle_timeout = Float(
        help="Seconds without a person or a kernel at work before the server stops itself;"
        " 0 = never (default: $LABWORKS_CULL_IDLE_TIMEOUT, the profile's idle time).",
    ).tag(config=True)

    @default("idle_timeout")
    def _idle_timeout_default(self) -> float:
        return timeout_from_env(os.environ)

    default_kernel = Unicode(
        "labworks-python3",
        help="Kernel spec of new notebooks unless the server config names one"
        " (MappingKernelManager.default_kernel_name); empty: jupyter_server's default.",
    ).tag(config=True)

    artifact_download_limit = Integer(
        MAX_ARTIFACT_BYTES,
        min=1,
        help="Largest run artifact (bytes) the Experiments panel downloads or opens; larger"
        " ones are refused with the `mlflow artifacts download` command to use instead.",
    ).tag(config=True)

    hub_auth_cache_seconds = Integer(
        10,
        help="Longest time the server trusts JupyterHub's answer about a visitor's token;"
        " a revoked workspace share stops working within it (JupyterHub's default: 300).",
    ).tag(config=True)

    @default("api_url")
    def _api_url_default(self) -> str:
        return os.environ.get("LABWORKS_API_URL", "")

    def initialize_settings(self) -> None:
        """Build the platform client and record when the server started."""
        assert self.serverapp is not None
        os.environ.update(with_git_ceiling(with_nbdime_git(os.environ), self.serverapp.root_dir))
        self._choose_default_kernel()
        started = self.serverapp.web_app.settings.get("started")
        if not isinstance(started, datetime):
            started = datetime.now(UTC)
        client = PlatformClient(
            self.api_url,
            token=os.environ.get("JUPYTERHUB_API_TOKEN", ""),
            timeout=self.request_timeout,
        )
        monitor = IdleMonitor(
            self.serverapp.web_app.settings,
            self.serverapp.kernel_manager,
            self.idle_timeout,
            stop=self._stop_idle_server,
        )
        self.settings.update(
            {
                CLIENT_SETTING: client,
                STARTED_SETTING: started,
                MONITOR_SETTING: monitor,
                ARTIFACT_LIMIT_SETTING: self.artifact_download_limit,
            }
        )
        limit_hub_auth_cache(self.serverapp, self.hub_auth_cache_seconds)
        if not self.api_url:
            self.log.warning("labworks: LABWORKS_API_URL is not set; platform calls will fail")
        else:
            self.log.info("labworks: forwarding to the platform service at %s", self.api_url)

    def _choose_default_kernel(self) -> None:
        """New notebooks get the Labworks kernel, unless the operator chose another one.

        (A ``jupyter_server_config.d`` file cannot do this: jupyter_server reads only the
        enabled extensions from those files.)"""
        assert self.serverapp is not None
        km = self.serverapp.kernel_manager
        configured = any(
            "default_kernel_name" in self.serverapp.config.get(name, {})
            for name in ("MultiKernelManager", "MappingKernelManager", type(km).__name__)
        )
        assert self.serverapp.kernel_spec_manager is not None
        specs = self.serverapp.kernel_spec_manager.find_kernel_specs()
        if self.default_kernel in specs and not configured:
            km.default_kernel_name = self.default_kernel

    def initialize_handlers(self) -> None:
        """Register the routes of the ``handlers`` table."""
        self.handlers.extend(
            [
                *labworks_handlers,
                *idle_handlers,
                *sharing_handlers,
                *gallery_handlers,
                *jobs_handlers,
                *experiments_handlers,
                *tensorboard_handlers,
                *visibility_handlers,
                *datasets_handlers,
                *admin_handlers,
                *sweeps_handlers,
                *models_handlers,
                *cost_handlers,
                *sources_handlers,
            ]
        )

    async def _start_jupyter_server_extension(self, serverapp) -> None:
        """Check for idleness periodically once the event loop runs."""
        if self.idle_timeout > 0:
            monitor: IdleMonitor = self.settings[MONITOR_SETTING]
            self._idle_check = PeriodicCallback(
                monitor.check, check_interval(self.idle_timeout) * 1000
            )
            self._idle_check.start()
            self.log.info(
                "labworks: stops after %g s without a person or a kernel at work", self.idle_timeout
            )

    async def stop_extension(self) -> None:
        """Stop the TensorBoards this server started."""
        await stop_tensorboards(self.settings)

    def _stop_idle_server(self) -> None:
        self.log.info(
            "labworks: idle for %g s (no person, no kernel at work); stopping through the hub,"
            " files are kept",
            self.idle_timeout,
        )
        assert self.serverapp is not None
        stop_idle_server(self.serverapp.stop, os.environ)
