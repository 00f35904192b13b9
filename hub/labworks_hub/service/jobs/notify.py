"""Telling a job's owner that it ended: a webhook per user (their notification settings).

A `Notifier` is chosen by `JobService.notifier_class`. Its contract: `check(url)` refuses a
destination it will not deliver to (with the reason, shown when the user saves it), and
`notify(url, payload)` delivers one notice, logging (never raising) when it cannot. The lab
itself learns of finished jobs by polling `GET /jobs?updated_since=...`.

`WebhookNotifier` POSTs the notice as JSON. By default it refuses loopback, private and
link-local addresses, so a webhook cannot be aimed at services inside the platform.
"""

from __future__ import annotations

import asyncio
import ipaddress
from typing import Any
from urllib.parse import urlsplit

import httpx
from traitlets import Bool, Float
from traitlets.config import LoggingConfigurable


class NotifyError(ValueError):
    """A destination the notifier will not deliver to; the message is user-facing."""


class Notifier(LoggingConfigurable):
    """Base class: delivers nothing. See the module docstring for the contract."""

    def check(self, url: str) -> None:
        """Raise NotifyError when `url` cannot be used."""

    async def notify(self, url: str, payload: dict[str, Any]) -> bool:
        """Deliver `payload`; True when it was accepted."""
        return False


class WebhookNotifier(Notifier):
    """POSTs `{"event": "job.ended", "job": {...}}` to the user's webhook URL."""

    timeout = Float(10.0, help="Seconds to wait for the webhook to answer.").tag(config=True)
    allow_private_addresses = Bool(
        False,
        help="Deliver to loopback, private and link-local addresses too (trusted networks).",
    ).tag(config=True)

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NotifyError(f"a webhook must be an http:// or https:// URL, not {url!r}")
        if parts.username or parts.password:
            raise NotifyError("put no credentials in the webhook URL; use a secret path instead")
        if not self.allow_private_addresses:
            literal = _literal_address(parts.hostname)
            if literal is not None and _private(literal):
                raise NotifyError(
                    f"webhooks to {parts.hostname} (a private or loopback address) are not"
                    " allowed here"
                )

    async def _resolves_private(self, host: str, port: int) -> bool:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port)
        except OSError:
            return False  # the POST will fail and say so
        return any(_private(ipaddress.ip_address(info[4][0])) for info in infos)

    async def notify(self, url: str, payload: dict[str, Any]) -> bool:
        try:
            self.check(url)
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if not self.allow_private_addresses and await self._resolves_private(
                parts.hostname or "", port
            ):
                raise NotifyError(f"{parts.hostname} resolves to a private address")
        except NotifyError as e:
            self.log.warning("Not delivering a job notice: %s", e)
            return False
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                response = await client.post(url, json=payload)
        except httpx.HTTPError as e:
            self.log.warning("Job webhook %s failed: %s", _safe(url), e)
            return False
        if response.status_code >= 300:
            self.log.warning("Job webhook %s answered %s", _safe(url), response.status_code)
            return False
        return True


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            return ipaddress.ip_address("127.0.0.1")
        return None


def _private(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_reserved or address.is_multicast or address.is_unspecified
    )  # fmt: skip


def _safe(url: str) -> str:
    """The URL without its path and query (they may hold a secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/..."


__all__ = ["Notifier", "NotifyError", "WebhookNotifier"]
