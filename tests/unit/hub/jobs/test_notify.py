"""E-mail (and webhook) notices of ended jobs, against a real SMTP server (aiosmtpd on
loopback, with STARTTLS or implicit TLS on a certificate made here, and AUTH): real papermill
jobs, the settings API in-process, the hub's hand-over of the SMTP settings, and no password
in any log or job."""

from __future__ import annotations

import base64
import email
import email.policy
import ipaddress
import json
import logging
import ssl
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from fastapi.testclient import TestClient
from traitlets.config import Config

from labworks_hub.service.app import create_app
from labworks_hub.service.jobs import models
from labworks_hub.service.jobs import operations as ops
from labworks_hub.service.jobs.notify import (
    EMAIL_SETUP,
    PASSWORD_ENV,
    EmailNotifier,
    NotifyError,
    WebhookNotifier,
    check_address,
    compose,
)
from labworks_hub.service.settings import ServiceSettings
from tests.fake_hub import ACCESS, SERVICE_TOKEN, Owner, fake_hub_api
from tests.platform import free_port

from .conftest import ANA, notebook, wait_until, wait_until_ended

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
PASSWORD = "s3cret-Pa55word!"
USER = "labworks-mailer"
HUB_URL = "https://lab.example.org/hub/"
API = "/services/labworks/api/v1"


# --- a real SMTP server ----------------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler keeping what it receives; logins are checked against USER/PASSWORD."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []
        self.logins: list[tuple[str, bool]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(self, server, session, envelope, mechanism, data) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(), PASSWORD.encode(),
        )  # fmt: skip
        self.logins.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)


def certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_file, key_file = directory / "smtp.crt", directory / "smtp.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def smtp(tmp_path):
    """Start SMTP servers: `start("starttls" | "tls" | "none")` -> (port, mailbox, CA file)."""
    cert_file, key_file = certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    running: list[Controller] = []

    def start(security: str = "starttls") -> tuple[int, Mailbox, str]:
        mailbox, port = Mailbox(), free_port()
        kwargs: dict = {"authenticator": mailbox.authenticate, "auth_required": True}
        if security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        elif security == "tls":
            # aiosmtpd does not count implicit TLS as TLS for AUTH: the socket is TLS anyway
            kwargs.update(ssl_context=context, server_hostname="localhost", auth_require_tls=False)
        else:
            kwargs.update(auth_require_tls=False)
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        running.append(controller)
        return port, mailbox, str(cert_file)

    yield start
    for controller in running:
        controller.stop()


def mail_config(port: int, ca_file: str, tmp_path: Path, **more) -> dict:
    """The EmailNotifier section an admin writes, with the password in a file."""
    secret = tmp_path / "smtp-password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o600)
    return {
        "smtp_host": "127.0.0.1", "smtp_port": port, "security": "starttls", "ca_file": ca_file,
        "username": USER, "password_file": str(secret), "from_address": "jobs@lab.example.org",
        "hub_url": HUB_URL, "timeout": 10, **more,
    }  # fmt: skip


def body(message: email.message.EmailMessage, kind: str) -> str:
    """The plain or html part, with the wire's CRLF line ends as newlines."""
    part = message.get_body((kind,))
    assert part is not None, f"no {kind} part"
    return part.get_content().replace("\r\n", "\n")


def request(content: dict, **fields) -> models.JobRequest:
    return models.JobRequest(content=content, path="work/demo.ipynb", **fields)


def settings(**fields) -> models.NotifySettingsUpdate:
    return models.NotifySettingsUpdate(**fields)


def secret_forms() -> list[str]:
    plain = f"\0{USER}\0{PASSWORD}"
    return [PASSWORD, *(base64.b64encode(s.encode()).decode() for s in (PASSWORD, plain))]


def assert_no_password(caplog) -> None:
    """No record of ours (aiosmtpd's own debug log aside) shows the password in any form."""
    text = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    for form in secret_forms():
        assert form not in text


async def all_notices_sent(service) -> None:
    await wait_until(lambda: _true(not service._background), what="notices sent")


async def _true(value):
    return value


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list] = []

    def do_POST(self):
        _Hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.received = []
    yield f"http://127.0.0.1:{server.server_port}/hooks/secret", _Hook.received
    server.shutdown()
    server.server_close()


# --- jobs that end, and their mail -----------------------------------------------------------


async def test_a_failed_job_mails_its_owner_and_posts_the_webhook_a_success_sends_nothing(
    make_service, smtp, webhook, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG, logger="traitlets")
    port, mailbox, ca_file = smtp("starttls")
    url, posted = webhook
    config = Config({
        "EmailNotifier": mail_config(
            port, ca_file, tmp_path, from_address="Labworks Jobs <jobs@lab.example.org>"
        ),
        "WebhookNotifier": {"allow_private_addresses": True},
    })  # fmt: skip
    service = await make_service(config=config)
    saved = await ops.put_notify(
        service, ANA, settings(webhook_url=url, email=" ana@example.org ", events="failed")
    )
    assert (saved.email, saved.email_available, saved.events) == ("ana@example.org", True, "failed")

    ok = await ops.submit(service, ANA, request(notebook("1 + 1")))
    assert (await wait_until_ended(service, ANA, ok.id)).status == "succeeded"
    nb = notebook("print(x)", "1 / 0", parameters="x = 1\nlabel = 'a'")
    bad = await ops.submit(
        service, ANA, request(nb, name="nightly <report>", parameters={"x": 21, "label": "b"})
    )
    assert (await wait_until_ended(service, ANA, bad.id)).status == "failed"
    await wait_until(lambda: _true(mailbox.messages and posted), what="mail and webhook")
    await all_notices_sent(service)

    assert len(mailbox.messages) == 1, [m[2]["Subject"] for m in mailbox.messages]
    sender, recipients, message = mailbox.messages[0]
    assert (sender, recipients) == ("jobs@lab.example.org", ["ana@example.org"])
    assert (message["From"], message["To"]) == (
        "Labworks Jobs <jobs@lab.example.org>", "ana@example.org",
    )  # fmt: skip
    assert message["Message-ID"].endswith("@lab.example.org>")
    assert message["Subject"] == "Labworks job nightly <report> failed"
    assert mailbox.logins == [("PLAIN", True)]
    text = body(message, "plain")
    for expected in (
        "Your notebook job nightly <report> failed.", f"(id {bad.id})", "ZeroDivisionError",
        "Duration:", "Notebook:", "work/demo.ipynb", "x = 21", 'label = "b"',
        f"Open the Jobs panel in your lab: {HUB_URL}user-redirect/lab",
    ):  # fmt: skip
        assert expected in text, (expected, text)
    page = body(message, "html")
    assert "<b>nightly &lt;report&gt;</b>" in page
    assert f'href="{HUB_URL}user-redirect/lab"' in page
    assert [(p["event"], p["job"]["id"]) for p in posted] == [("job.ended", bad.id)]
    assert any("E-mail notice of job" in r.getMessage() for r in caplog.records)
    assert_no_password(caplog)

    await ops.put_notify(service, ANA, settings(email="ana@example.org", events="finished"))
    again = await ops.submit(service, ANA, request(notebook("2 + 2"), name="quick"))
    await wait_until_ended(service, ANA, again.id)
    await wait_until(lambda: _true(len(mailbox.messages) == 2), what="a second mail")
    assert mailbox.messages[1][2]["Subject"] == "Labworks job quick succeeded"
    assert len(posted) == 1  # the webhook was turned off by the PUT without it


async def test_when_the_smtp_server_is_down_the_job_ends_and_the_failure_is_logged_without_secrets(
    make_service, tmp_path, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG, logger="traitlets")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    closed = free_port()  # nothing listens there
    section = mail_config(closed, "", tmp_path, password_file="", timeout=3)
    service = await make_service(config=Config({"EmailNotifier": section}))
    await ops.put_notify(service, ANA, settings(email="ana@example.org"))
    nb = notebook("import os", f"print('pw:', os.environ.get({PASSWORD_ENV!r}))", "1 / 0")
    job = await ops.submit(service, ANA, request(nb))

    def failures() -> list[str]:
        return [r.getMessage() for r in caplog.records if "not sent" in r.getMessage()]

    done = await wait_until_ended(service, ANA, job.id)
    await wait_until(lambda: _true(failures()), what="the failure logged")
    await all_notices_sent(service)

    assert done.status == "failed" and "ZeroDivisionError" in done.reason
    after = await ops.get_job(service, ANA, job.id)
    assert (after.status, after.reason) == (done.status, done.reason)
    assert len(failures()) == 1, failures()
    where = f"E-mail notice of job {job.id} to ana@example.org via 127.0.0.1:{closed} not sent"
    assert where in failures()[0]
    assert "ConnectionRefusedError" in failures()[0]
    assert_no_password(caplog)
    log = await ops.logs(service, ANA, job.id)
    assert "pw: None" in log.text and PASSWORD not in log.text  # the job never sees it


async def test_implicit_tls_with_the_password_from_the_environment_and_a_wrong_password(
    smtp, tmp_path, caplog, monkeypatch
):
    caplog.set_level(logging.DEBUG, logger="traitlets")
    port, mailbox, ca_file = smtp("tls")
    section = mail_config(port, ca_file, tmp_path, security="tls", password_file="")
    notifier = EmailNotifier(config=Config({"EmailNotifier": section}))
    job = {"id": "abc123", "name": "train.ipynb", "status": "timed_out", "reason": "timed out "
           "after 60 s", "duration_seconds": 61.2, "parameters": {}, "attempt": 2}  # fmt: skip

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    assert await notifier.notify("ben@example.org", job) is True
    assert mailbox.messages[0][2]["Subject"] == "Labworks job train.ipynb timed out"
    assert "the notebook's defaults" in body(mailbox.messages[0][2], "plain")

    monkeypatch.setenv(PASSWORD_ENV, "wrong-" + PASSWORD)
    assert await notifier.notify("ben@example.org", job) is False
    monkeypatch.delenv(PASSWORD_ENV)
    assert await notifier.notify("ben@example.org", job) is False

    assert len(mailbox.messages) == 1
    failures = [r.getMessage() for r in caplog.records if "not sent" in r.getMessage()]
    assert "SMTPAuthenticationError" in failures[0]
    assert f"needs a password: set EmailNotifier.password_file or ${PASSWORD_ENV}" in failures[1]
    text = "\n".join(r.getMessage() for r in caplog.records if r.name != "mail.log")
    assert "wrong-" + PASSWORD not in text
    assert_no_password(caplog)


async def test_plain_smtp_on_a_trusted_relay_and_no_smtp_host_means_no_mail(smtp, tmp_path):
    port, mailbox, _ = smtp("none")
    job = {"id": "j1", "name": "a.ipynb", "status": "succeeded", "duration_seconds": 3725}
    section = mail_config(port, "", tmp_path, security="none")
    assert await EmailNotifier(config=Config({"EmailNotifier": section})).notify(
        "ana@example.org", job
    )
    text = body(mailbox.messages[0][2], "plain")
    assert "\nDuration: 1 h 02 min\n" in text
    without_login = EmailNotifier(config=Config({"EmailNotifier": {**section, "username": ""}}))
    assert await without_login.notify("ana@example.org", job) is False  # this server wants AUTH
    unconfigured = EmailNotifier()
    assert (unconfigured.available, unconfigured.setup) == (False, EMAIL_SETUP)
    assert (
        "c.EmailNotifier.smtp_host" in EMAIL_SETUP and "jupyterhub_config.local.py" in EMAIL_SETUP
    )
    unconfigured.check("ana@example.org")  # kept for when mail is configured
    with pytest.raises(NotifyError, match="is not an e-mail address"):
        unconfigured.check("ana")
    assert await unconfigured.notify("ana@example.org", job) is False
    assert len(mailbox.messages) == 1


# --- settings --------------------------------------------------------------------------------


def test_addresses_are_checked():
    for good in ("ana@example.org", "a.b+jobs@mail.example.co.uk", "x_y-z@a-b.io"):
        check_address(good)
    for bad in (
        "", "ana", "ana@", "@example.org", "ana@example", "ana@@example.org", "a..b@example.org",
        ".a@example.org", "Ana <ana@example.org>", "ana@example.org\r\nBcc: eve@example.org",
        "ana@exa mple.org", "ana@-example.org", "ana@192.168.1.1", "ana@[127.0.0.1]",
        "\"a b\"@example.org", "anä@example.org", "ana@example.org,eve@example.org",
        "a" * 65 + "@example.org",
    ):  # fmt: skip
        with pytest.raises(NotifyError, match=r"is not an e-mail address like name@example\.org"):
            check_address(bad)


def test_the_mail_escapes_what_users_wrote_and_keeps_headers_on_one_line():
    job = {
        "id": "j9", "name": "evil\r\nBcc: eve@example.org <script>", "status": "failed",
        "reason": "<img src=x onerror=alert(1)>", "duration_seconds": 7384.0,
        "parameters": {"q": "</code><b>x"}, "notebook_path": "n.ipynb", "attempt": 1,
    }  # fmt: skip
    message = compose(job, "ana@example.org", "jobs@lab.example.org", "")
    raw = message.as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Labworks job evil Bcc: eve@example.org <script> failed"
    page = body(parsed, "html")
    assert "<script>" not in page and "<img" not in page and "</code><b>x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    text = body(parsed, "plain")
    assert "\nDuration: 2 h 03 min\n" in text
    assert "user-redirect" not in text  # no public URL: no link


async def test_an_address_is_saved_without_smtp_and_used_once_there_is_one(
    make_service, smtp, tmp_path
):
    without = await make_service()
    saved = await ops.put_notify(without, ANA, settings(email="ana@example.org"))
    assert (saved.email, saved.email_available, saved.email_setup) == (
        "ana@example.org", False, EMAIL_SETUP,
    )  # fmt: skip
    changed = await ops.put_notify(without, ANA, settings(email="ana@other.example.org"))
    assert changed.email == "ana@other.example.org"
    with pytest.raises(ops.Unprocessable, match="is not an e-mail address"):
        await ops.put_notify(without, ANA, settings(email="ana@"))
    assert (await ops.get_notify(without, ANA)).email == "ana@other.example.org"

    port, _, ca_file = smtp("starttls")
    with_mail = await make_service(
        config=Config({"EmailNotifier": mail_config(port, ca_file, tmp_path)})
    )
    shown = await ops.get_notify(with_mail, ANA)
    assert (shown.email, shown.email_available, shown.email_setup) == (
        "ana@other.example.org", True, "",
    )  # fmt: skip


@pytest.fixture
def hub_api(monkeypatch):
    """A stand-in for the hub's REST API (it answers who owns a token)."""
    monkeypatch.setenv("JUPYTERHUB_OAUTH_ACCESS_SCOPES", json.dumps([ACCESS]))
    with fake_hub_api({"ana-token": Owner("ana", groups=("ml",))}) as url:
        yield url


def client_for(tmp_path, hub_api: str, jobs_config: dict) -> TestClient:
    tmp_path.mkdir(parents=True, exist_ok=True)
    env = {
        "LABWORKS_DB_URL": f"sqlite:///{tmp_path / 'store.sqlite'}",
        "LABWORKS_STATE_DIR": str(tmp_path / "state"),
        "JUPYTERHUB_SERVICE_PREFIX": "/services/labworks/",
        "JUPYTERHUB_API_URL": hub_api,
        "JUPYTERHUB_API_TOKEN": SERVICE_TOKEN,
        "LABWORKS_JOBS_CONFIG": json.dumps({"LocalExecutor": {"isolation": "off"}, **jobs_config}),
    }
    return TestClient(create_app(ServiceSettings.from_env(env)))


AUTH = {"Authorization": "token ana-token"}


def test_the_settings_api_saves_an_address_without_smtp_and_refuses_bad_ones_with_a_422(
    tmp_path,
    hub_api,
    smtp,
):
    with client_for(tmp_path / "a", hub_api, {}) as client:
        shown = client.get(API + "/jobs/notifications", headers=AUTH)
        saved = client.put(
            API + "/jobs/notifications", headers=AUTH, json={"email": "ana@example.org"}
        )
    assert shown.status_code == 200
    assert shown.json() == {
        "webhook_url": "", "email": "", "events": "failed", "email_available": False,
        "email_setup": EMAIL_SETUP,
    }  # fmt: skip
    assert saved.status_code == 200, saved.text  # the README's example works out of the box
    assert saved.json()["email"] == "ana@example.org"

    port, _, ca_file = smtp("starttls")
    section = {"EmailNotifier": mail_config(port, ca_file, tmp_path)}
    with client_for(tmp_path / "b", hub_api, section) as client:

        def put(body: dict):
            return client.put(API + "/jobs/notifications", headers=AUTH, json=body)

        bad = put({"email": "ana at example.org"})
        injected = put({"email": "ana@example.org\r\nBcc: eve@example.org"})
        bad_events = put({"email": "ana@example.org", "events": "sometimes"})
        hook = put({"webhook_url": "ftp://example.org/x"})
        good = put({"email": "ana@example.org", "events": "finished", "email_available": False})
        shown = client.get(API + "/jobs/notifications", headers=AUTH)
        anonymous = client.get(API + "/jobs/notifications")
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid")
    assert bad.json()["message"] == (
        "'ana at example.org' is not an e-mail address like name@example.org"
    )
    assert injected.status_code == 422
    assert bad_events.status_code == 422 and "events" in bad_events.json()["message"]
    assert hook.status_code == 400 and "http:// or https://" in hook.json()["message"]
    assert good.status_code == 200, good.text
    assert shown.json() == {
        "webhook_url": "", "email": "ana@example.org", "events": "finished",
        "email_available": True, "email_setup": "",
    }  # fmt: skip
    assert anonymous.status_code == 401


def test_the_hub_hands_the_smtp_settings_and_the_password_variable_to_the_service(monkeypatch):
    from labworks_hub.hubconfig import jobs_environment

    c = Config()
    c.EmailNotifier.smtp_host = "smtp.example.org"
    c.EmailNotifier.username = USER
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    monkeypatch.delenv("JUPYTERHUB_PUBLIC_HUB_URL", raising=False)
    assert PASSWORD_ENV not in jobs_environment(c, None)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    environment = jobs_environment(c, None)

    assert environment[PASSWORD_ENV] == PASSWORD
    assert PASSWORD not in environment["LABWORKS_JOBS_CONFIG"]
    service = ServiceSettings.from_env(environment)
    notifier = EmailNotifier(config=Config(service.jobs_config))
    assert (notifier.smtp_host, notifier.username, notifier.port) == (
        "smtp.example.org", USER, 587,
    )  # fmt: skip
    assert notifier.available
    assert notifier.lab_url() == ""  # no public URL: no link
    monkeypatch.setenv("JUPYTERHUB_PUBLIC_HUB_URL", HUB_URL)  # JupyterHub.public_url is set
    assert EmailNotifier().lab_url() == f"{HUB_URL}user-redirect/lab"


@pytest.mark.parametrize("url", ["http://[::1", "http://example.org:port/x", "https://h:99999/"])
def test_a_webhook_url_that_does_not_parse_is_refused_with_a_clear_message(url):
    with pytest.raises(NotifyError, match="not a valid webhook URL"):
        WebhookNotifier().check(url)
