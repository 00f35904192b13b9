"""Telling a job's owner that it ended: by webhook and by e-mail, per their notification settings.

`JobService` holds one `Notifier` per channel (`webhook_notifier_class`,
`email_notifier_class`). The contract of a notifier:

- `available`: whether the channel delivers on this platform (the e-mail notifier needs an SMTP
  server). A user may save a destination of a channel that is not available; it is kept, and
  used once an admin configures the channel (`setup` says how).
- `check(destination)` refuses a destination it would never deliver to (not an address), with
  the reason (shown when the user saves it).
- `notify(destination, job)` delivers one notice of an ended job (the job's JSON), logging and
  never raising when it cannot: a notice that fails never changes the job.
- `send(destination, notice)` delivers any other `Notice` (a cost alert: service/cost/alerts.py)
  the same way: the webhook gets `{"event": ..., **payload}`, the mail a plain-text message.

The lab itself learns of finished jobs by polling `GET /jobs?updated_since=...`.

`WebhookNotifier` POSTs the notice as JSON. By default it refuses loopback, private and
link-local addresses, so a webhook cannot be aimed at services inside the platform.
`EmailNotifier` sends a plain-text and HTML mail through the configured SMTP server (stdlib
smtplib, in a thread). Its password is read from `password_file` or the environment variable
`LABWORKS_SMTP_PASSWORD` when a mail is sent; it is no trait, so it is in no config dump, and
it never reaches a log.
"""

from __future__ import annotations

import asyncio
import base64
import html
import ipaddress
import json
import os
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from traitlets import Bool, CaselessStrEnum, Float, Integer, Unicode, default
from traitlets.config import LoggingConfigurable

from ...public_url import from_environment

WEBHOOK, EMAIL = "webhook_url", "email"  # the channels: fields of the notification settings
PASSWORD_ENV = "LABWORKS_SMTP_PASSWORD"  # noqa: S105 (the variable's name)
EMAIL_SETUP = (
    "an admin sets c.EmailNotifier.smtp_host (and smtp_port, username, security) in"
    " jupyterhub_config.local.py in the state directory (./.labworks/ by default; the"
    " password in $LABWORKS_SMTP_PASSWORD) and restarts Labworks (admin guide: E-mail notices)"
)
OUTCOMES = {
    "succeeded": "succeeded",
    "failed": "failed",
    "timed_out": "timed out",
    "cancelled": "was cancelled",
}


class NotifyError(ValueError):
    """A destination the notifier will not deliver to; the message is user-facing."""


@dataclass(frozen=True)
class Notice:
    """A notice that is not about a job: its event name, the JSON a webhook gets besides
    `event`, and the subject and text of its mail."""

    event: str
    subject: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)


class Notifier(LoggingConfigurable):
    """Base class: delivers nothing. See the module docstring for the contract."""

    @property
    def available(self) -> bool:
        return True

    @property
    def setup(self) -> str:
        """How an admin makes an unavailable channel available; '' when it is."""
        return ""

    def check(self, destination: str) -> None:
        """Raise NotifyError when `destination` cannot be used."""

    async def notify(self, destination: str, job: dict[str, Any]) -> bool:
        """Deliver a notice that `job` (its JSON form) ended; True when it was accepted."""
        return False

    async def send(self, destination: str, notice: Notice) -> bool:
        """Deliver `notice`; True when it was accepted."""
        return False


class WebhookNotifier(Notifier):
    """POSTs `{"event": "job.ended", "job": {...}}` to the user's webhook URL."""

    timeout = Float(10.0, help="Seconds to wait for the webhook to answer.").tag(config=True)
    allow_private_addresses = Bool(
        False,
        help="Deliver to loopback, private and link-local addresses too (trusted networks).",
    ).tag(config=True)

    def check(self, destination: str) -> None:
        try:
            parts = urlsplit(destination)
            parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
        except ValueError as e:
            raise NotifyError(f"not a valid webhook URL ({e}): {destination!r}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise NotifyError(f"a webhook must be an http:// or https:// URL, not {destination!r}")
        if parts.username or parts.password:
            raise NotifyError("put no credentials in the webhook URL; use a secret path instead")
        if not self.allow_private_addresses:
            literal = _literal_address(parts.hostname)
            if literal is not None and is_private_address(literal):
                raise NotifyError(
                    f"webhooks to {parts.hostname} (a private or loopback address) are not"
                    " allowed here"
                )

    async def _resolves_private(self, host: str, port: int) -> bool:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port)
        except OSError:
            return False  # the POST will fail and say so
        return any(is_private_address(ipaddress.ip_address(info[4][0])) for info in infos)

    async def notify(self, destination: str, job: dict[str, Any]) -> bool:
        return await self._post(destination, {"event": "job.ended", "job": job}, "job notice")

    async def send(self, destination: str, notice: Notice) -> bool:
        return await self._post(
            destination, {"event": notice.event, **notice.payload}, notice.event
        )

    async def _post(self, url: str, body: dict[str, Any], what: str) -> bool:
        try:
            self.check(url)
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            if not self.allow_private_addresses and await self._resolves_private(
                parts.hostname or "", port
            ):
                raise NotifyError(f"{parts.hostname} resolves to a private address")
        except NotifyError as e:
            self.log.warning("Not delivering a %s: %s", what, e)
            return False
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
                response = await client.post(url, json=body)
        except httpx.HTTPError as e:
            self.log.warning("Webhook %s (%s) failed: %s", _safe(url), what, e)
            return False
        if response.status_code >= 300:
            self.log.warning("Webhook %s (%s) answered %s", _safe(url), what, response.status_code)
            return False
        return True


class EmailNotifier(Notifier):
    """Mails the owner's address through an SMTP server; unavailable without `smtp_host`."""

    smtp_host = Unicode("", help="SMTP server; empty: no e-mail notifications.").tag(config=True)
    smtp_port = Integer(0, help="SMTP port; 0: 587, 465 or 25 per `security`.").tag(config=True)
    security = CaselessStrEnum(
        ["starttls", "tls", "none"],
        default_value="starttls",
        help="starttls: upgrade the connection (port 587); tls: TLS from the start (465);"
        " none: plain SMTP (a relay on a trusted network only).",
    ).tag(config=True)
    ca_file = Unicode(
        "", help="CA bundle to verify the SMTP server with; empty: the system's CAs."
    ).tag(config=True)
    username = Unicode("", help="SMTP login; empty: send without logging in.").tag(config=True)
    password_file = Unicode(
        "",
        help=f"File holding the SMTP password (read at each send); empty: ${PASSWORD_ENV}.",
    ).tag(config=True)
    from_address = Unicode(
        "", help="Sender address of the notices; empty: labworks@<this host's name>."
    ).tag(config=True)
    hub_url = Unicode(
        help="Public URL of the hub (https://lab.example.org/hub/) for the link to the lab in"
        " mails; default: the platform's public URL ($LABWORKS_PUBLIC_URL, which `labworks up`"
        " sets, or $JUPYTERHUB_PUBLIC_HUB_URL) + hub/. Empty: no link.",
    ).tag(config=True)
    timeout = Float(20.0, help="Seconds to wait for the SMTP server.").tag(config=True)

    @default("hub_url")
    def _hub_url_default(self) -> str:
        public = from_environment()
        return public + "hub/" if public else ""

    @default("from_address")
    def _from_address_default(self) -> str:
        return f"labworks@{socket.getfqdn()}"

    @property
    def available(self) -> bool:
        return bool(self.smtp_host.strip())

    @property
    def setup(self) -> str:
        return "" if self.available else EMAIL_SETUP

    @property
    def port(self) -> int:
        return self.smtp_port or {"starttls": 587, "tls": 465}.get(self.security, 25)

    def check(self, destination: str) -> None:
        check_address(destination)  # kept without an SMTP server: used once there is one

    def password(self) -> str:
        """The SMTP password, from `password_file` or $LABWORKS_SMTP_PASSWORD."""
        if self.password_file:
            try:
                return Path(self.password_file).read_text().rstrip("\r\n")
            except OSError as e:
                raise NotifyError(
                    f"cannot read the SMTP password file {self.password_file}: {e.strerror}"
                ) from None
        password = os.environ.get(PASSWORD_ENV, "")
        if not password:
            raise NotifyError(
                f"the SMTP login {self.username!r} needs a password: set"
                f" EmailNotifier.password_file or ${PASSWORD_ENV}"
            )
        return password

    def lab_url(self) -> str:
        """Where the owner's lab opens (the Jobs panel is in its sidebar); '' if not known."""
        return f"{self.hub_url.rstrip('/')}/user-redirect/lab" if self.hub_url else ""

    async def notify(self, destination: str, job: dict[str, Any]) -> bool:
        return await self._mail(
            destination,
            lambda: compose(job, destination, self.from_address, self.lab_url()),
            f"notice of job {job.get('id')}",
        )

    async def send(self, destination: str, notice: Notice) -> bool:
        return await self._mail(
            destination,
            lambda: compose_notice(notice, destination, self.from_address, self.lab_url()),
            notice.event,
        )

    async def _mail(self, destination: str, make: Any, what: str) -> bool:
        if not self.available:
            return False
        password = ""
        try:
            check_address(destination)
            message = make()
            if self.username:
                password = self.password()
            await asyncio.to_thread(self._send, message, destination, password)
        except (NotifyError, smtplib.SMTPException, OSError, ValueError) as e:
            reason = _redact(f"{type(e).__name__}: {e}", self.username, password)
            self.log.warning(
                "E-mail %s to %s via %s:%s not sent: %s",
                what, destination, self.smtp_host, self.port, reason,
            )  # fmt: skip
            return False
        self.log.info("E-mail %s sent to %s", what, destination)
        return True

    def _send(self, message: EmailMessage, recipient: str, password: str) -> None:
        """Deliver `message` (blocking: run in a thread)."""
        context = ssl.create_default_context(cafile=self.ca_file or None)
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(
                self.smtp_host, self.port, timeout=self.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(self.smtp_host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, password)
            smtp.send_message(message, from_addr=self.from_address, to_addrs=[recipient])


# --- addresses and messages ------------------------------------------------------------------

_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def check_address(address: str) -> None:
    """Raise NotifyError unless `address` is a plain `name@example.org` address (ASCII,
    dot-atom local part, a domain name with a dot; no display name, quotes or IP literals)."""
    local, at, domain = address.rpartition("@")
    labels = domain.split(".")
    if not (
        at and len(address) <= 254 and 0 < len(local) <= 64 and _LOCAL.fullmatch(local)
        and len(labels) >= 2 and all(_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    ):  # fmt: skip
        raise NotifyError(f"{address!r} is not an e-mail address like name@example.org")


def compose(job: dict[str, Any], to: str, sender: str, lab_url: str) -> EmailMessage:
    """The notice of an ended job as a plain-text and HTML mail."""
    name = _one_line(str(job.get("name") or job.get("id") or "job"))
    outcome = OUTCOMES.get(str(job.get("status")), str(job.get("status")))
    rows = [
        ("Job", f"{name} (id {job.get('id')})"),
        ("Outcome", outcome),
        ("Reason", str(job.get("reason") or "-")),
        ("Duration", _duration(job.get("duration_seconds"))),
        ("Notebook", str(job.get("notebook_path") or "-")),
        ("Profile", str(job.get("profile") or "-")),
        ("Attempts", str(job.get("attempt", "-"))),
        ("Finished", str(job.get("finished_at") or "-")),
    ]
    parameters = [(k, _value(v)) for k, v in (job.get("parameters") or {}).items()]
    message = EmailMessage()
    message["Subject"] = f"Labworks job {name[:120]} {outcome}"
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"

    width = max(len(label) for label, _ in rows) + 2
    text = [f"Your notebook job {name} {outcome}.", ""]
    text += [f"{label + ':':<{width}}{value}" for label, value in rows]
    text += ["", "Parameters:"]
    text += [f"  {k} = {v}" for k, v in parameters] or ["  (the notebook's defaults)"]
    if lab_url:
        text += ["", f"Open the Jobs panel in your lab: {lab_url}"]
    text += ["", "-- ", "Labworks. Change these notices in the Jobs panel or with",
             "`labworks jobs notifications`."]  # fmt: skip
    message.set_content("\n".join(text) + "\n")

    e = html.escape
    cells = "".join(
        f'<tr><th align="left" valign="top">{e(label)}</th><td>{e(value)}</td></tr>'
        for label, value in rows
    )
    params = "".join(f"<li><code>{e(k)} = {e(v)}</code></li>" for k, v in parameters)
    link = f'<p><a href="{e(lab_url)}">Open the Jobs panel in your lab</a></p>' if lab_url else ""
    message.add_alternative(
        "<!DOCTYPE html><html><body>"
        f"<p>Your notebook job <b>{e(name)}</b> {e(outcome)}.</p>"
        f'<table cellpadding="4">{cells}</table>'
        f"<p>Parameters:</p><ul>{params or '<li>the notebook&#x27;s defaults</li>'}</ul>{link}"
        '<p style="color:#666">Labworks. Change these notices in the Jobs panel or with'
        " <code>labworks jobs notifications</code>.</p></body></html>\n",
        subtype="html",
    )
    return message


def compose_notice(notice: Notice, to: str, sender: str, lab_url: str) -> EmailMessage:
    """A `Notice` as a plain-text mail."""
    message = EmailMessage()
    message["Subject"] = _one_line(notice.subject)[:200]
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    link = ["", f"Open your lab: {lab_url}"] if lab_url else []
    message.set_content("\n".join([notice.text, *link, "", "-- ", "Labworks"]) + "\n")
    return message


def _one_line(text: str) -> str:
    """`text` without control characters (a header value cannot hold line breaks)."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _value(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "- (it did not start)"
    total = round(seconds)
    if total < 60:
        return f"{seconds:.1f} s"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs:02d} s"


def _redact(text: str, username: str, password: str) -> str:
    """`text` without the password, in clear or in the base64 forms SMTP AUTH sends it."""
    if not password:
        return text
    plain = f"\0{username}\0{password}"
    for form in (password, *(base64.b64encode(f.encode()).decode() for f in (password, plain))):
        text = text.replace(form, "***")
    return text


# --- webhook helpers -------------------------------------------------------------------------


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            return ipaddress.ip_address("127.0.0.1")
        return None


def is_private_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local, reserved, multicast or unspecified: not the internet."""
    return (
        address.is_private or address.is_loopback or address.is_link_local
        or address.is_reserved or address.is_multicast or address.is_unspecified
    )  # fmt: skip


def _safe(url: str) -> str:
    """The URL without its path and query (they may hold a secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/..."


__all__ = [
    "EMAIL_SETUP",
    "EmailNotifier",
    "Notice",
    "Notifier",
    "NotifyError",
    "WebhookNotifier",
    "check_address",
    "compose",
    "compose_notice",
]
