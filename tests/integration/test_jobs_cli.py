"""`labworks jobs notifications` and `labworks schedules update` against the real platform, and
e-mail notices end to end: a platform whose admin set up SMTP in `jupyterhub_config.local.py`
(the password in the hub's environment) mails the owner of a failed job through a real SMTP
server (aiosmtpd on loopback: STARTTLS with a certificate made here, AUTH)."""

from __future__ import annotations

import json
import shutil
import ssl
import tempfile
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from labworks_hub.service.jobs.notify import EMAIL_SETUP, PASSWORD_ENV
from tests.integration.test_jobs import call, cli, notebook
from tests.platform import Platform, free_port
from tests.unit.hub.jobs.test_notify import PASSWORD, USER, Mailbox, body, certificate

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tokens(platform):
    platform.add_user("nora")
    platform.add_user("nick")
    return {name: platform.token(name) for name in ("nora", "nick")}


def settings_of(platform, token: str) -> dict:
    reply = call(platform, token, "GET", "/jobs/notifications")
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_notifications_are_shown_and_changed_with_the_cli(platform, tokens):
    nora = tokens["nora"]
    shown = cli(platform, nora, "jobs", "notifications")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "webhook: -",
        "email: - (e-mail is not configured on this platform)",
        "on: failed (failures and timeouts)",
        f"To send mail, {EMAIL_SETUP}.",
    ]

    hook = "https://hooks.example.org/T0/secret"
    changed = cli(platform, nora, "jobs", "notifications", "--webhook", hook, "--on", "finished")
    assert changed.returncode == 0, changed.stderr
    assert f"webhook: {hook}" in changed.stdout and "on: finished (every end)" in changed.stdout
    assert settings_of(platform, nora) == {
        "webhook_url": hook, "email": "", "events": "finished", "email_available": False,
        "email_setup": EMAIL_SETUP,
    }  # fmt: skip
    assert settings_of(platform, tokens["nick"])["webhook_url"] == ""  # each user their own

    # The README's example: saved, and the CLI says why no mail goes out and what to do.
    mail = cli(platform, nora, "jobs", "notifications", "--email", "nora@example.org")
    assert mail.returncode == 0, mail.stderr
    assert "email: nora@example.org (saved, not sent yet: e-mail is not configured" in mail.stdout
    assert "c.EmailNotifier.smtp_host" in mail.stdout
    refused = cli(platform, nora, "jobs", "notifications", "--email", "nora")
    assert refused.returncode == 1
    assert "failed (422): 'nora' is not an e-mail address" in refused.stderr
    assert settings_of(platform, nora)["email"] == "nora@example.org"
    private = cli(platform, nora, "jobs", "notifications", "--webhook", "http://127.0.0.1:8081/x")
    assert private.returncode == 1 and "private or loopback" in private.stderr
    assert settings_of(platform, nora)["webhook_url"] == hook  # nothing lost on a refusal

    both = cli(platform, nora, "jobs", "notifications", "--webhook", hook, "--no-webhook")
    assert both.returncode == 2 and "not both" in both.stderr
    cleared = cli(platform, nora, "jobs", "notifications", "--no-webhook", "--json")
    assert cleared.returncode == 0, cleared.stderr
    assert json.loads(cleared.stdout) == {
        "webhook_url": "", "email": "nora@example.org", "events": "finished",
        "email_available": False, "email_setup": EMAIL_SETUP,
    }  # fmt: skip
    bad_choice = cli(platform, nora, "jobs", "notifications", "--on", "sometimes")
    assert bad_choice.returncode == 2 and "sometimes" in bad_choice.stderr


def test_a_schedule_is_updated_with_the_cli(platform, tokens, tmp_path):
    nora = tokens["nora"]
    nb = tmp_path / "report.ipynb"
    nb.write_text(json.dumps(notebook("print(day, n)", parameters="day = 'mon'\nn = 1")))
    created = cli(platform, nora, "schedules", "create", str(nb), "--cron", "30 2 * * *",
                  "-p", "day=tue")  # fmt: skip
    assert created.returncode == 0, created.stderr
    schedule_id = created.stdout.strip()

    updated = cli(platform, nora, "schedules", "update", schedule_id, "--cron", "0 7 * * 1-5",
                  "--timezone", "Europe/Berlin", "-p", "n=5", "-p", "day=7",
                  "--profile", "cpu-large")  # fmt: skip
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout.startswith(f"{schedule_id}: 0 7 * * 1-5 (Europe/Berlin) on cpu-large")
    assert "next run 20" in updated.stderr
    shown = call(platform, nora, "GET", f"/schedules/{schedule_id}").json()
    assert (shown["cron"], shown["timezone"], shown["profile"]) == (
        "0 7 * * 1-5", "Europe/Berlin", "cpu-large",
    )  # fmt: skip
    assert shown["parameters"] == {"day": "7", "n": 5}  # day stays a string, n is read as int
    assert shown["next_run_at"][11:16] in ("05:00", "06:00")  # 07:00 in Berlin, in UTC

    as_json = cli(platform, nora, "schedules", "update", schedule_id, "--tz", "UTC", "--json")
    assert json.loads(as_json.stdout)["timezone"] == "UTC"
    for args, message in (
        (("--cron", "every day"), "five fields"),
        (("-p", "nope=1"), "unknown parameter 'nope'"),
        (("-p", "n=many"), "parameter 'n' must be an integer"),
        (("--profile", "no-such-profile"), "no-such-profile"),
        (("--timezone", "Mars/Olympus"), "Mars/Olympus"),
    ):
        failed = cli(platform, nora, "schedules", "update", schedule_id, *args)
        assert failed.returncode != 0 and message in failed.stderr, (args, failed.stderr)
    nothing = cli(platform, nora, "schedules", "update", schedule_id)
    assert nothing.returncode == 2 and "nothing to change" in nothing.stderr
    others = cli(platform, tokens["nick"], "schedules", "update", schedule_id, "--cron", "@daily")
    assert others.returncode == 1 and "(404)" in others.stderr
    after = call(platform, nora, "GET", f"/schedules/{schedule_id}").json()
    assert (after["cron"], after["parameters"]) == ("0 7 * * 1-5", {"day": "7", "n": 5})
    assert cli(platform, nora, "schedules", "delete", schedule_id).returncode == 0


# --- e-mail end to end -----------------------------------------------------------------------

MAIL_CONFIG = """
c.JupyterHub.public_url = {public!r}
c.EmailNotifier.smtp_host = "127.0.0.1"
c.EmailNotifier.smtp_port = {port}
c.EmailNotifier.ca_file = {ca_file!r}
c.EmailNotifier.username = {user!r}
c.EmailNotifier.from_address = "jobs@lab.example.org"
"""


@pytest.fixture(scope="module")
def mail_platform():
    """A platform of its own, whose admin configured SMTP; and the SMTP server's mailbox."""
    base = Path(tempfile.mkdtemp(prefix="lw-mail-", dir="/tmp"))
    base.chmod(0o711)  # workspaces and jobs may run as system accounts (as in conftest.py)
    cert, key = certificate(base)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox, port = Mailbox(), free_port()
    controller = Controller(
        mailbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
        authenticator=mailbox.authenticate, auth_required=True,
    )  # fmt: skip
    controller.start()
    home = base / "lw"
    home.mkdir()
    p = Platform(home)
    config = MAIL_CONFIG.format(public=p.url + "/", port=port, ca_file=str(cert), user=USER)
    (home / "jupyterhub_config.local.py").write_text(config)
    p.log_path.touch(mode=0o600)  # it holds the admin password
    with pytest.MonkeyPatch.context() as env:
        env.setenv(PASSWORD_ENV, PASSWORD)  # the hub's environment, handed to the service
        p.start()
    p.add_user("mona")
    yield p, mailbox
    p.stop()
    controller.stop()
    shutil.rmtree(base)


def test_a_failed_job_is_mailed_to_its_owner_through_the_configured_smtp_server(
    mail_platform, tmp_path
):
    platform, mailbox = mail_platform
    mona = platform.token("mona")
    bad_address = cli(platform, mona, "jobs", "notifications", "--email", "mona at example")
    assert bad_address.returncode == 1
    assert "(422): 'mona at example' is not an e-mail address like name@example.org" in (
        bad_address.stderr
    )
    saved = cli(platform, mona, "jobs", "notifications", "--email", "mona@example.org")
    assert saved.returncode == 0, saved.stderr
    assert "email: mona@example.org\n" in saved.stdout

    good = tmp_path / "fine.ipynb"
    good.write_text(json.dumps(notebook("print('fine')")))
    assert cli(platform, mona, "jobs", "run", str(good), "--wait").returncode == 0
    bad = tmp_path / "train.ipynb"
    bad.write_text(json.dumps(notebook("print(lr)", "raise ValueError('no data')",
                                       parameters="lr = 0.1")))  # fmt: skip
    failed = cli(platform, mona, "jobs", "run", str(bad), "-p", "lr=0.5", "--wait")
    assert failed.returncode == 1
    job_id = failed.stdout.strip()

    deadline = time.monotonic() + 60
    while not mailbox.messages:
        assert time.monotonic() < deadline, "no mail arrived"
        time.sleep(0.2)
    sender, recipients, message = mailbox.messages[0]
    assert (sender, recipients) == ("jobs@lab.example.org", ["mona@example.org"])
    assert message["Subject"] == "Labworks job train.ipynb failed"
    text = body(message, "plain")
    link = f"Open the Jobs panel in your lab: {platform.url}/hub/user-redirect/lab"
    for expected in (f"(id {job_id})", "ValueError: no data", "lr = 0.5", link):
        assert expected in text, (expected, text)
    assert mailbox.logins[0] == ("PLAIN", True)
    # the success before it sent nothing (events: failed), and no log holds the password
    assert len(mailbox.messages) == 1
    assert PASSWORD not in platform.log()
