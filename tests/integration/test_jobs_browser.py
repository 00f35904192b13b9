"""A person in a real browser (Debian chromium) runs a notebook as a job: "Run as job" in the
notebook's toolbar, a parameter edited (a wrong type first, refused inline), another profile
picked (the GPU one greyed out: no GPU here), the job followed to "succeeded" in the Jobs panel
with its log, the output notebook opened read-only with the injected value's effect, and
nbdime's diff of source and output; then, from the file browser's context menu, a schedule with
the preview of its next runs, edited from the panel; and the notification settings, saved and
read back after a reload. The CLI lists the same profiles."""

from __future__ import annotations

import json

import httpx
import nbformat
import pytest
from playwright.sync_api import Page, expect

from tests.browser import TIMEOUT_MS as TIMEOUT
from tests.browser import open_panel
from tests.integration.test_browser import log_in, start_from_form
from tests.platform import API, auth, labworks

pytestmark = pytest.mark.e2e


def parameterized_notebook(kernel: str) -> dict:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                'epochs = 3  # passes over the data\nlabel = "base"',
                metadata={"tags": ["parameters"]},
            ),
            nbformat.v4.new_code_cell('print(f"ran {epochs} epochs as {label}")'),
            nbformat.v4.new_code_cell("epochs * 100"),
        ]
    )
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"c{i}"
    nb.metadata["kernelspec"] = {"name": kernel, "display_name": "Python 3", "language": "python"}
    return json.loads(nbformat.writes(nb))


def test_run_a_notebook_as_a_job_from_its_toolbar(platform, page: Page, screenshots):
    password = platform.add_user("jolene", "--group", "jobs-ui")
    log_in(page, platform.url, "jolene", password)
    start_from_form(page, "jolene", "cpu-small")
    token = platform.token("jolene")
    lab_api = f"{platform.url}/user/jolene/api"
    specs = httpx.get(f"{lab_api}/kernelspecs", headers=auth(token)).json()
    saved = httpx.put(
        f"{lab_api}/contents/epochs.ipynb", headers=auth(token), timeout=30,
        json={"type": "notebook", "content": parameterized_notebook(specs["default"])},
    )  # fmt: skip
    assert saved.status_code == 201, saved.text

    page.goto(f"{platform.url}/user/jolene/lab/tree/epochs.ipynb")
    notebook = page.locator(".jp-NotebookPanel")
    expect(notebook.locator(".jp-Cell")).to_have_count(3)
    notebook.locator(".jp-Toolbar-item").get_by_text("Run as job", exact=True).click()

    dialog = page.locator(".jp-Dialog")
    epochs = dialog.locator("#jp-Labworks-parameter-epochs")
    expect(epochs).to_have_value("3")
    expect(dialog.locator('[data-testid="labworks-parameter-epochs"]')).to_contain_text(
        "passes over the data · default 3"
    )
    expect(dialog.locator("#jp-Labworks-parameter-label")).to_have_value("base")
    # The profiles jobs can run on: this workspace's first; the GPU one is greyed out with why.
    profile = dialog.locator("#jp-Labworks-jobField-profile")
    expect(profile).to_have_value("cpu-small")
    gpu = profile.locator('option[value="gpu-1"]')
    expect(gpu).to_be_disabled()
    expect(gpu).to_have_attribute(
        "title", "cannot run jobs here: needs 1 GPU(s); jobs here have no GPU"
    )
    expect(gpu).to_contain_text("unavailable")
    profile.select_option("cpu-large")
    expect(dialog).to_contain_text("8 cores, 32 GiB memory")  # its description

    # A wrong type is explained at the field, at once, and the job is not submitted.
    epochs.fill("ten")
    error = dialog.locator("#jp-Labworks-parameter-epochs-error")
    expect(error).to_have_text('epochs must be an integer (int), not "ten"')
    expect(epochs).to_have_attribute("aria-invalid", "true")
    dialog.get_by_role("button", name="Run job").click()
    expect(dialog.locator('[data-testid="labworks-run-job-error"]')).to_have_text(
        "Correct the fields marked in red first."
    )
    page.screenshot(path=screenshots / "20-run-job-bad-parameter.png")
    listed = httpx.get(platform.url + API + "/jobs", headers=auth(token)).json()
    assert listed["jobs"] == []

    epochs.fill("7")
    expect(error).to_have_count(0)
    dialog.locator("#jp-Labworks-parameter-label").fill("tuned")
    page.screenshot(path=screenshots / "21-run-job-dialog.png")
    dialog.get_by_role("button", name="Run job").click()
    expect(dialog).to_have_count(0)

    # The Jobs panel opens on the new job and follows it to the end.
    panel = page.locator('[data-testid="labworks-jobs-panel"]')
    job = panel.locator('[data-testid^="labworks-job-"][data-status]').first
    expect(job).to_contain_text("epochs.ipynb")
    expect(job).to_have_attribute("data-status", "succeeded", timeout=TIMEOUT)
    detail = job.locator('[data-testid="labworks-job-detail"]')
    expect(detail).to_contain_text('epochs=7, label="tuned"')
    expect(detail).to_contain_text("local environment · sha256:")
    expect(detail.locator('[data-testid="labworks-job-log"]')).to_contain_text(
        "ran 7 epochs as tuned"
    )
    # The owner hears about the end in the lab, with a button to the output.
    toast = page.locator(".Toastify__toast", has_text="Job epochs.ipynb succeeded")
    expect(toast).to_be_visible()
    expect(toast.get_by_role("button", name="Open output")).to_be_visible()
    page.screenshot(path=screenshots / "22-jobs-panel-succeeded.png")

    job_id = job.get_attribute("data-testid").removeprefix("labworks-job-")
    shown = httpx.get(f"{platform.url}{API}/jobs/{job_id}", headers=auth(token)).json()
    assert shown["status"] == "succeeded"
    assert shown["parameters"] == {"epochs": 7, "label": "tuned"}
    assert shown["notebook_path"] == "epochs.ipynb"
    assert shown["profile"] == "cpu-large"
    expect(detail).to_contain_text("cpu-large")

    # The output notebook opens read-only, with the injected values' effect.
    detail.get_by_role("button", name="Open output").click()
    expect(page.locator(".lm-TabBar-tab", has_text=f"epochs (job {job_id}).ipynb")).to_be_visible()
    output = page.locator(".jp-NotebookPanel:visible")
    expect(output).to_contain_text("notebook is read-only")
    expect(output.locator(".jp-Cell")).to_have_count(4)  # papermill added the injected cell
    expect(output.locator(".jp-Cell").nth(1)).to_contain_text("epochs = 7")
    expect(
        output.locator(".jp-OutputArea-output", has_text="ran 7 epochs as tuned")
    ).to_be_visible()
    expect(output.locator(".jp-OutputArea-output", has_text="700")).to_be_visible()
    page.screenshot(path=screenshots / "23-job-output-read-only.png")

    # nbdime compares the source notebook with the output, in a new browser tab.
    with page.context.expect_page() as opened:
        detail.get_by_role("button", name="Diff with source").click()
    nbdime = opened.value
    nbdime.wait_for_url("**/user/jolene/nbdime/difftool?base=*")
    expect(nbdime.locator(".cm-line", has_text="epochs = 7").first).to_be_visible()
    expect(nbdime.locator(".cm-line", has_text="epochs = 3").first).to_be_visible()
    nbdime.screenshot(path=screenshots / "24-job-diff-nbdime.png")
    nbdime.close()


def test_a_schedule_shows_its_next_runs_before_it_is_created(platform, page: Page, screenshots):
    password = platform.add_user("jasper")
    log_in(page, platform.url, "jasper", password)
    start_from_form(page, "jasper", "cpu-small")
    token = platform.token("jasper")
    lab_api = f"{platform.url}/user/jasper/api"
    specs = httpx.get(f"{lab_api}/kernelspecs", headers=auth(token)).json()
    saved = httpx.put(
        f"{lab_api}/contents/report.ipynb", headers=auth(token), timeout=30,
        json={"type": "notebook", "content": parameterized_notebook(specs["default"])},
    )  # fmt: skip
    assert saved.status_code == 201, saved.text

    # This time from the file browser's context menu, with the notebook closed.
    page.goto(f"{platform.url}/user/jasper/lab")
    item = page.locator('.jp-DirListing-item[data-file-type="notebook"]', has_text="report.ipynb")
    item.click(button="right")
    page.locator(".lm-Menu-item", has_text="Run as Job…").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Runs the saved report.ipynb")
    dialog.get_by_label("Run on a schedule instead of now").check()
    cron = dialog.locator("#jp-Labworks-jobField-cron")
    cron.fill("every day")
    expect(dialog.locator("#jp-Labworks-jobField-cron-error")).to_contain_text(
        "invalid cron expression"
    )
    cron.fill("30 2 * * *")
    dialog.locator("#jp-Labworks-jobField-timezone").fill("Europe/Berlin")
    preview = dialog.locator('[data-testid="labworks-schedule-preview"]')
    expect(preview.locator("li")).to_have_count(3)
    expect(preview.locator("li").first).to_contain_text("(Europe/Berlin)")
    expect(dialog.get_by_role("button", name="Create schedule")).to_be_visible()
    page.screenshot(path=screenshots / "25-run-job-schedule-preview.png")
    dialog.get_by_role("button", name="Create schedule").click()
    expect(dialog).to_have_count(0)

    schedules = page.locator('[data-testid="labworks-schedules"]')
    item = schedules.locator('[data-testid^="labworks-schedule-"]').first
    expect(item).to_contain_text("30 2 * * * (Europe/Berlin)")
    item.get_by_role("button", expanded=False).click()

    # Edit it from the panel: a new cron with its preview, a parameter, another profile.
    item.get_by_role("button", name="Edit the schedule report.ipynb").click()
    dialog = page.locator(".jp-Dialog")
    cron = dialog.locator("#jp-Labworks-jobField-cron")
    expect(cron).to_have_value("30 2 * * *")
    expect(dialog.locator("#jp-Labworks-jobField-timezone")).to_have_value("Europe/Berlin")
    expect(dialog.locator("#jp-Labworks-parameter-epochs")).to_have_value("3")
    cron.fill("45 6 * * 1")
    preview = dialog.locator('[data-testid="labworks-schedule-preview"]')
    expect(preview.locator("li")).to_have_count(3)
    expect(preview.locator("li").first).to_contain_text("Mon")
    expect(preview.locator("li").first).to_contain_text("06:45")
    dialog.locator("#jp-Labworks-parameter-label").fill("weekly")
    dialog.locator("#jp-Labworks-jobField-profile").select_option("cpu-large")
    page.screenshot(path=screenshots / "26-edit-schedule-dialog.png")
    dialog.get_by_role("button", name="Save schedule").click()
    expect(dialog).to_have_count(0)
    expect(item).to_contain_text("45 6 * * 1 (Europe/Berlin)")
    expect(item).to_contain_text("next Mon")

    item.get_by_role("button", name="Pause").click()
    expect(item).to_contain_text("paused")
    page.screenshot(path=screenshots / "27-jobs-panel-schedule.png")
    listed = httpx.get(platform.url + API + "/schedules", headers=auth(token)).json()
    assert [
        (s["cron"], s["timezone"], s["paused"], s["parameters"], s["profile"])
        for s in listed["schedules"]
    ] == [("45 6 * * 1", "Europe/Berlin", True, {"label": "weekly"}, "cpu-large")]


def test_notification_settings_are_saved_and_read_back(platform, page: Page, screenshots):
    password = platform.add_user("nell")
    log_in(page, platform.url, "nell", password)
    start_from_form(page, "nell", "cpu-small")
    token = platform.token("nell")

    panel = open_panel(page, "jobs")
    panel.get_by_role("button", name="Notification settings").click()
    form = panel.locator('[data-testid="labworks-notifications"]')
    webhook = form.get_by_label("Webhook URL")
    expect(webhook).to_be_enabled()
    expect(webhook).to_have_value("")
    # No SMTP server on this platform: the address is kept for later, and the form says how
    # an admin turns mail on.
    expect(form.get_by_label("E-mail address")).to_be_enabled()
    expect(form).to_contain_text("E-mail is not configured on this platform")
    expect(form).to_contain_text("c.EmailNotifier.smtp_host")

    # The platform refuses a loopback webhook; the reason shows and the text stays.
    webhook.fill("http://127.0.0.1:9/hook")
    form.get_by_role("button", name="Save").click()
    error = form.locator('[data-testid="labworks-notifications-error"]')
    expect(error).to_contain_text("(a private or loopback address) are not allowed here")
    expect(webhook).to_have_value("http://127.0.0.1:9/hook")

    webhook.fill("https://hooks.example.org/T0/B0/nell")
    form.get_by_label("E-mail address").fill("nell@example.org")
    form.get_by_label("Tell me about").select_option("finished")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_role("status")).to_have_text("Saved.")
    expect(error).to_have_count(0)
    expect(form).to_be_in_viewport()
    page.screenshot(path=screenshots / "28-jobs-notification-settings.png")
    saved = httpx.get(platform.url + API + "/jobs/notifications", headers=auth(token)).json()
    assert (saved["webhook_url"], saved["email"], saved["events"]) == (
        "https://hooks.example.org/T0/B0/nell",
        "nell@example.org",
        "finished",
    )

    # In a newly loaded lab (with a fresh layout) the panel reads them back from the platform.
    page.goto(f"{platform.url}/user/nell/lab?reset")
    open_panel(page, "jobs")
    panel.get_by_role("button", name="Notification settings").click()
    expect(form.get_by_label("Webhook URL")).to_have_value("https://hooks.example.org/T0/B0/nell")
    expect(form.get_by_label("Tell me about")).to_have_value("finished")


def test_the_cli_lists_the_profiles_jobs_run_on(platform):
    platform.add_user("clio")
    env = {"LABWORKS_URL": platform.url, "LABWORKS_TOKEN": platform.token("clio")}

    table = labworks("profiles", home=platform.home, env=env).stdout.splitlines()
    listed = json.loads(labworks("profiles", "--json", home=platform.home, env=env).stdout)

    names = [p["name"] for p in listed["profiles"]]
    assert names[:3] == ["cpu-small", "cpu-large", "gpu-1"]
    assert [p["default"] for p in listed["profiles"]].count(True) == 1
    assert table[0].split()[:3] == ["*", "cpu-small", "2"]
    gpu = next(line for line in table if " gpu-1 " in f" {line} ")
    assert gpu.endswith("unavailable: cannot run jobs here: needs 1 GPU(s); jobs here have no GPU")
    assert "1 GPU" in gpu
