"""The wire types refuse what a user may not type: paths and names with NUL, control or bidi
characters or blank parts, over-long cron expressions and time zones, URLs that do not parse
(service/validation.py holds the rules; datasets and the gallery use the same ones)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from labworks_hub.service import validation
from labworks_hub.service.jobs import models

BAD_PATHS = [
    "a\x00b.ipynb", "a\nb.ipynb", "a\x85b.ipynb", "x/\u202egnp.ipynb", "a\u2066b.ipynb",
    "a\u200fb.ipynb", "a\u061cb.ipynb", " ", "a/ /b.ipynb", " a.ipynb", "a/b.ipynb ", "a//b.ipynb",
    "a/", "a\\b.ipynb",
]  # fmt: skip


@pytest.mark.parametrize("path", BAD_PATHS)
def test_a_job_path_with_control_bidi_or_blank_parts_is_refused_naming_the_field(path):
    with pytest.raises(ValidationError) as e:
        models.JobRequest(content={}, path=path)
    assert [err["loc"] for err in e.value.errors()] == [("path",)]


@pytest.mark.parametrize("path", [*BAD_PATHS, "/etc/passwd", "../a.csv", "a/./b.csv", "."])
def test_a_path_inside_a_root_is_also_relative_without_dot_parts(path):
    assert validation.path_problem(path)


def test_paths_people_use_pass():
    for path in ("nb.ipynb", "work/2024 Q1/résumé.ipynb", "/home/ana/nb.ipynb", "../nb.ipynb"):
        assert models.JobRequest(content={}, path=path).path == path
    assert models.JobRequest(content={}).path == ""
    for path in ("train/part-0.csv", "a b/c.d.csv", "日本/データ.csv"):
        assert validation.path_problem(path) == ""


def test_names_text_cron_time_zone_and_webhook_are_checked():
    with pytest.raises(ValidationError, match="name"):
        models.JobRequest(content={}, name="report\u202eexe.ipynb")
    with pytest.raises(ValueError, match="U\\+0000"):
        validation.check_text("a\x00b")
    hebrew = "line one\n\u200f\u05e9\u05dc\u05d5\u05dd\ttab"  # a right-to-left mark kept
    assert validation.check_text(hebrew) == hebrew
    with pytest.raises(ValidationError, match="timezone"):
        models.PreviewRequest(cron="0 0 * * *", timezone="a" * 5000)
    with pytest.raises(ValidationError, match="cron"):
        models.ScheduleUpdate(cron="0 " * 200)
    for url in ("http://[::1", "http://example.com:99999999/x", "http://exa\x00mple.com/"):
        with pytest.raises(ValidationError, match="webhook_url"):
            models.NotifySettingsUpdate(webhook_url=url)
    assert models.NotifySettingsUpdate(webhook_url="https://example.com:8443/hook").webhook_url
