"""Reports, summaries and budgets on SQLite and PostgreSQL: grouping, who sees what, months,
CSV, budgets' use and who may set them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest

from labworks_hub.service.access import Forbidden, Invalid, NotFound, Viewer
from labworks_hub.service.cost import report as r
from labworks_hub.service.cost.models import CSV_COLUMNS, report_csv
from labworks_hub.service.store.cost import CostBudget, CostCursor, CostUsage

from .conftest import ANA, BEN, CAL, ROOT, people

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def row(owner, kind, subject_id, day, cost, **extra) -> CostUsage:
    start = datetime.combine(day, datetime.min.time(), UTC)
    fields = dict(
        subject_kind=kind, subject_id=subject_id, day=day, owner=owner, name=subject_id,
        profile="small", project="", sweep_id="", mlflow_run_id="", first_start=start,
        last_end=start + timedelta(hours=1), seconds=3600.0, core_seconds=7200.0,
        memory_gb_seconds=4 * 3600.0, gpu_seconds=0.0, gpu_model="", cpu_seconds=100.0,
        memory_byte_seconds=0.0, memory_peak=0, gpu_utilization_seconds=0.0, gpu_memory_peak=0,
        cost_usd=cost,
    )  # fmt: skip
    fields.update(extra)
    return CostUsage(**fields)


@pytest.fixture
def usage(store):
    people(store)
    with store.session() as s:
        s.add_all([
            row("ana", "job", "j1", date(2026, 12, 1), 1.0, sweep_id="sw1",
                mlflow_run_id="run1", project="churn"),
            row("ana", "job", "j2", date(2026, 12, 2), 2.0, sweep_id="sw1", project="churn"),
            row("ana", "workspace", "ana", date(2026, 12, 2), 0.5),
            row("ben", "job", "j3", date(2026, 12, 3), 4.0),
            row("cal", "deployment", "d1/1", date(2026, 12, 3), 8.0, name="api v1"),
            row("ana", "job", "j0", date(2026, 11, 30), 16.0),  # last month
        ])  # fmt: skip
    return store


def keys(found: dict) -> dict[str, float]:
    return {x["key"]: round(x["cost_usd"], 6) for x in found["rows"]}


def test_a_user_sees_only_their_own_usage_grouped_as_asked(usage):
    with usage.session() as s:
        assert keys(r.report(s, ANA, "user", None, NOW)) == {"ana": 3.5}
        assert keys(r.report(s, ANA, "job", None, NOW)) == {"j2": 2.0, "j1": 1.0}
        assert keys(r.report(s, ANA, "sweep", None, NOW)) == {"sw1": 3.0}
        assert keys(r.report(s, ANA, "run", None, NOW)) == {"run1": 1.0}
        assert keys(r.report(s, ANA, "project", None, NOW)) == {"churn": 3.0, "": 0.5}
        assert keys(r.report(s, ANA, "workspace", None, NOW)) == {"ana": 0.5}
        assert keys(r.report(s, ANA, "day", None, NOW)) == {"2026-12-01": 1.0, "2026-12-02": 2.5}
        assert keys(r.report(s, ANA, "deployment", None, NOW)) == {}
        assert keys(r.report(s, ANA, "user", "2026-11", NOW)) == {"ana": 16.0}
        found = r.report(s, ANA, "job", None, NOW)
        assert (found["month"], found["total_usd"]) == ("2026-12", 3.0)
        assert found["rows"][0]["cpu_hours"] == 2.0 and found["rows"][0]["memory_gb_hours"] == 4


def test_groups_are_their_members_totals_seen_by_members_only(usage):
    with usage.session() as s:
        assert keys(r.report(s, ANA, "group", None, NOW)) == {"ml": 7.5}  # ana's and ben's
        assert keys(r.report(s, CAL, "group", None, NOW)) == {"finance": 8.0}
        assert keys(r.report(s, Viewer("dan"), "group", None, NOW)) == {}
        assert keys(r.report(s, ROOT, "group", None, NOW)) == {"ml": 7.5, "finance": 8.0}


def test_admins_see_everyone_and_service_tokens_nothing(usage):
    with usage.session() as s:
        assert keys(r.report(s, ROOT, "user", None, NOW)) == {"cal": 8.0, "ben": 4.0, "ana": 3.5}
        found = r.report(s, ROOT, "deployment", None, NOW)
        assert found["rows"][0]["name"] == "api v1"
        assert keys(r.report(s, Viewer("", kind="service"), "user", None, NOW)) == {}


def test_a_bad_month_is_refused():
    for month in ("2026-13", "0000-01", "26-12"):
        with pytest.raises(Invalid, match="YYYY-MM"):
            r.month_bounds(month, NOW)
    assert r.month_bounds("2026-12", NOW)[1:] == (date(2026, 12, 1), date(2027, 1, 1))


def test_the_report_as_csv_has_a_header_and_a_cost_column(usage):
    with usage.session() as s:
        found = r.report(s, ROOT, "user", None, NOW)
    rows = list(csv.DictReader(io.StringIO(report_csv(found))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert [(x["key"], float(x["cost_usd"])) for x in rows] == [("cal", 8.0), ("ben", 4.0),
                                                                ("ana", 3.5)]  # fmt: skip
    formula = report_csv({"rows": [{"key": "=cmd()", "cost_usd": 1.0}]})
    assert "'=cmd()" in formula  # not a formula in a spreadsheet
    tiny = report_csv({"rows": [{"key": "a", "cost_usd": 0.00023629197}, {"key": "b",
                                 "cost_usd": 1234567.891234}]})  # fmt: skip
    assert [float(x["cost_usd"]) for x in csv.DictReader(io.StringIO(tiny))] == [
        0.000236291970,
        1234567.89,
    ]  # a few seconds' run keeps its digits, millions their cents


def test_budgets_are_set_by_admins_and_show_their_use(usage):
    with usage.session() as s:
        budget = r.set_budget(s, ROOT, "user", "ana", 10.0, [50, 80, 100], NOW)
        assert (budget["spent_usd"], budget["percent"]) == (3.5, 35.0)
        group = r.set_budget(s, ROOT, "group", "ml", 10.0, [90], NOW)
        assert (group["spent_usd"], group["percent"]) == (7.5, 75.0)
        r.set_budget(s, ROOT, "user", "cal", 1.0, [100], NOW)
        with pytest.raises(Forbidden, match="only administrators"):
            r.set_budget(s, ANA, "user", "ana", 1e6, [100], NOW)
        with pytest.raises(Forbidden):
            r.delete_budget(s, BEN, "group", "ml")
        with pytest.raises(NotFound, match="no group 'nope'"):
            r.set_budget(s, ROOT, "group", "nope", 1.0, [100], NOW)
        with pytest.raises(NotFound, match="no user 'nope'"):
            r.set_budget(s, ROOT, "user", "nope", 1.0, [100], NOW)
    with usage.session() as s:
        listed = r.list_budgets(s, ANA, NOW)["budgets"]
        assert [(b["scope"], b["name"]) for b in listed] == [("group", "ml"), ("user", "ana")]
        assert len(r.list_budgets(s, ROOT, NOW)["budgets"]) == 3
        r.delete_budget(s, ROOT, "user", "cal")
        with pytest.raises(NotFound):
            r.delete_budget(s, ROOT, "user", "cal")
        assert s.get(CostBudget, ("group", "ml")).updated_by == "root"


def test_the_summary_is_the_callers_burn_spend_running_work_and_budgets(usage):
    with usage.session() as s:
        s.add(CostCursor(
            subject_kind="job", subject_id="j9", owner="ana", name="train", profile="small",
            project="", sweep_id="", mlflow_run_id="", session_start=NOW, last_end=NOW,
            counter_key="", cpu_counter=0.0, billed=False, burn_per_hour=0.09, cpu_percent=97.0,
            memory_bytes=1 << 30,
        ))  # fmt: skip
        s.add(CostCursor(
            subject_kind="job", subject_id="j8", owner="ben", name="x", profile="small",
            project="", sweep_id="", mlflow_run_id="", session_start=NOW, last_end=NOW,
            counter_key="", cpu_counter=0.0, billed=False, burn_per_hour=5.0,
        ))  # fmt: skip
        s.add(row("ana", "job", "j9", date(2026, 12, 5), 0.25))
    with usage.session() as s:
        found = r.summary(s, ANA, NOW)
    assert (found["burn_per_hour"], found["today_usd"], found["month_usd"]) == (0.09, 0.25, 3.75)
    assert [(x["id"], x["cpu_percent"], x["gpu_utilization"]) for x in found["running"]] == [
        ("j9", 97.0, None)
    ]
