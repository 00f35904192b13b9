"""The jobs store on SQLite and on a real PostgreSQL server: migration, who sees what, the run
state machine (compare and set), retries with backoff, queue order, listing and schedules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, select

import labworks_hub.service.store
from labworks_hub.service.access import Conflict, Forbidden, NotFound, Viewer
from labworks_hub.service.store import jobs as j

from .conftest import ANA, BEN, CAL, notebook

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def definition(session, viewer=ANA, share=None, **spec) -> j.JobDefinition:
    sha = j.save_notebook(session, json.dumps(notebook("x = 1")))
    fields = dict(
        name="train.ipynb", notebook_path="work/train.ipynb", notebook_sha256=sha,
        parameters={"x": 1}, profile="cpu-small", kernel_name="python3", image="", timeout=60,
        max_retries=0, priority=0,
    )  # fmt: skip
    fields.update(spec)
    return j.create_definition(session, viewer, share, **fields)


def queued(store, viewer=ANA, share=None, **spec) -> str:
    with store.session() as s:
        run = j.create_run(s, definition(s, viewer, share, **spec), trigger="api", now=NOW)
        return run.id


def test_migration_reaches_the_newest_revision(store):
    migrations = Path(labworks_hub.service.store.__file__).parent / "migrations"
    newest = ScriptDirectory(str(migrations)).get_current_head()
    assert newest is not None and newest >= "0005"  # datasets, the latest migration so far
    assert store.revision() == newest
    store.migrate()
    assert store.revision() == newest


def test_the_same_notebook_is_kept_once(store):
    content = json.dumps(notebook("print(1)"))
    with store.session() as s:
        first, second = j.save_notebook(s, content), j.save_notebook(s, content)
        assert first == second
        assert s.scalar(select(func.count()).select_from(j.JobNotebook)) == 1
        assert j.notebook_content(s, first) == content


def test_a_run_copies_its_definition_and_starts_queued_with_an_event(store):
    run_id = queued(store)
    with store.session() as s:
        run = j.get_run(s, ANA, run_id)
        assert (run.status, run.attempt, run.trigger) == ("queued", 0, "api")
        assert run.parameters == {"x": 1}
        assert len(run.id) == 12
        assert [e.kind for e in j.run_events(s, run_id)] == ["queued"]


def test_owner_and_shared_group_see_a_run_others_get_not_found(store):
    private = queued(store)
    shared = queued(store, share="ml")
    with store.session() as s:
        assert j.get_run(s, ANA, private).owner == "ana"
        assert j.get_run(s, BEN, shared).owner == "ana"
        for viewer, run_id in ((BEN, private), (CAL, private), (CAL, shared)):
            with pytest.raises(NotFound, match=f"no job '{run_id}'"):
                j.get_run(s, viewer, run_id)
        nobody = Viewer("", frozenset({"ml"}))  # a service token: sees nothing
        assert j.list_runs(s, nobody) == ([], 0)
        assert {r.id for r in j.list_runs(s, BEN)[0]} == {shared}
        assert j.list_runs(s, ANA)[1] == 2


def test_sharing_with_a_group_one_is_not_in_is_refused(store):
    with store.session() as s, pytest.raises(Forbidden, match="not a member of group 'finance'"):
        definition(s, ANA, share="finance")


def test_only_the_owner_cancels_and_a_queued_run_is_cancelled_at_once(store):
    run_id = queued(store, share="ml")
    with store.session() as s:
        with pytest.raises(Forbidden, match="belongs to 'ana'"):
            j.request_cancel(s, BEN, run_id)
        with pytest.raises(NotFound):
            j.request_cancel(s, CAL, run_id)
        run = j.request_cancel(s, ANA, run_id)
        assert (run.status, run.reason) == ("cancelled", "cancelled while queued")
        with pytest.raises(Conflict, match="already ended \\(cancelled\\)"):
            j.request_cancel(s, ANA, run_id)


def test_a_running_run_gets_a_cancel_request_once(store):
    run_id = queued(store)
    with store.session() as s:
        run = s.get(j.JobRun, run_id)
        assert j.move(s, run, "queued", "running", "attempt 1 started", now=NOW, attempt=1)
        j.request_cancel(s, ANA, run_id)
        j.request_cancel(s, ANA, run_id)
        run = j.get_run(s, ANA, run_id)
        assert (run.status, run.cancel_requested) == ("running", True)
        kinds = [e.kind for e in j.run_events(s, run_id)]
        assert kinds == ["queued", "running", "cancel_requested"]


def test_moves_are_compare_and_set_and_follow_the_state_machine(store):
    run_id = queued(store)
    with store.session() as s:
        run = s.get(j.JobRun, run_id)
        assert j.move(s, run, "queued", "running", now=NOW, attempt=1)
        assert run.started_at == NOW
        assert not j.move(s, run, "queued", "running", now=NOW)  # it left queued already
        with pytest.raises(ValueError, match="cannot go from succeeded to running"):
            j.move(s, run, "succeeded", "running")
        assert j.finish(s, run, "succeeded", "", retry_backoff=10, now=NOW) == "succeeded"
        assert run.finished_at == NOW


def test_a_failed_attempt_with_retries_left_is_queued_again_with_doubling_backoff(store):
    run_id = queued(store, max_retries=2)
    with store.session() as s:
        run = s.get(j.JobRun, run_id)
        waits = []
        for attempt in (1, 2):
            j.move(s, run, "queued", "running", now=NOW, attempt=attempt)
            assert j.finish(s, run, "failed", "boom", retry_backoff=10, now=NOW) == "queued"
            waits.append(run.not_before - NOW)
            assert run.reason == f"boom; retry {attempt} of 2 in {10 * 2 ** (attempt - 1)}s"
            assert (run.executor_state, run.started_at) == ({}, None)
        assert waits == [timedelta(seconds=10), timedelta(seconds=20)]
        j.move(s, run, "queued", "running", now=NOW, attempt=3)
        assert j.finish(s, run, "timed_out", "slow", retry_backoff=10, now=NOW) == "timed_out"
        assert [e.kind for e in j.run_events(s, run_id)].count("queued") == 3


def test_a_cancelled_attempt_is_never_retried(store):
    run_id = queued(store, max_retries=3)
    with store.session() as s:
        run = s.get(j.JobRun, run_id)
        j.move(s, run, "queued", "running", now=NOW, attempt=1)
        j.request_cancel(s, ANA, run_id)
        s.refresh(run)
        assert j.finish(s, run, "failed", "killed", retry_backoff=1, now=NOW) == "failed"


def test_due_runs_come_in_priority_then_age_order_after_their_backoff(store):
    low = queued(store, priority=-5)
    high = queued(store, priority=10)
    normal = queued(store)
    later = queued(store)
    with store.session() as s:
        s.get(j.JobRun, later).not_before = NOW + timedelta(minutes=5)
    with store.session() as s:
        assert [r.id for r in j.runs_due(s, NOW)] == [high, normal, low]
        order = [r.id for r in j.runs_due(s, NOW + timedelta(minutes=5))]
        assert (order[0], set(order[1:3]), order[3]) == (high, {normal, later}, low)


def test_listing_filters_searches_and_pages(store):
    ids = [queued(store, name=f"train-{i}.ipynb") for i in range(5)]
    other = queued(store, name="report_100%.ipynb", notebook_path="reports/q4.ipynb")
    with store.session() as s:
        j.request_cancel(s, ANA, ids[0])
    with store.session() as s:
        page, total = j.list_runs(s, ANA, limit=2, offset=1)
        assert total == 6 and len(page) == 2
        assert j.list_runs(s, ANA, status=["cancelled"])[1] == 1
        assert [r.id for r in j.list_runs(s, ANA, search="REPORT_100%")[0]] == [other]
        assert [r.id for r in j.list_runs(s, ANA, search="q4")[0]] == [other]
        assert j.list_runs(s, ANA, search="%")[1] == 1  # a literal %, not a wildcard
        assert j.list_runs(s, ANA, search="_")[1] == 1
        cancelled = s.get(j.JobRun, ids[0])
        since = cancelled.updated_at - timedelta(microseconds=1)
        assert [r.id for r in j.list_runs(s, ANA, updated_since=since)[0]] == [ids[0]]


def test_schedules_are_visible_like_runs_and_changed_by_their_owner_only(store):
    with store.session() as s:
        shared = definition(s, ANA, share="ml")
        schedule = j.JobSchedule(definition_id=shared.id, cron="0 6 * * *", next_run_at=NOW)
        s.add(schedule)
        s.flush()
        schedule_id = schedule.id
        mine = definition(s, ANA)
        s.add(j.JobSchedule(definition_id=mine.id, cron="@daily", paused=True, next_run_at=NOW))
    with store.session() as s:
        assert [x.id for x in j.list_schedules(s, BEN)] == [schedule_id]
        assert len(j.list_schedules(s, ANA)) == 2
        assert j.list_schedules(s, CAL) == []
        with pytest.raises(NotFound):
            j.get_schedule(s, CAL, schedule_id)
        with pytest.raises(Forbidden):
            j.owned_schedule(s, BEN, schedule_id)
        assert [x.id for x in j.schedules_due(s, NOW)] == [schedule_id]  # not the paused one
        assert j.schedules_due(s, NOW - timedelta(seconds=1)) == []
        run = j.create_run(s, shared, trigger="schedule", schedule_id=schedule_id, now=NOW)
        assert j.last_runs(s, [schedule_id]) == {schedule_id: run}


def test_deleting_a_schedule_keeps_its_runs(store):
    with store.session() as s:
        d = definition(s)
        schedule = j.JobSchedule(definition_id=d.id, cron="@hourly", next_run_at=NOW)
        s.add(schedule)
        s.flush()
        run = j.create_run(s, d, trigger="schedule", schedule_id=schedule.id, now=NOW)
        run_id, schedule_id = run.id, schedule.id
    with store.session() as s:
        s.delete(j.owned_schedule(s, ANA, schedule_id))
    with store.session() as s:
        assert j.get_run(s, ANA, run_id).schedule_id == schedule_id
        assert j.list_schedules(s, ANA) == []


def test_notification_settings_default_to_failures_without_a_webhook(store):
    with store.session() as s:
        found = j.notify_settings(s, "ana")
        assert (found.webhook_url, found.events) == ("", "failed")
        j.save_notify_settings(s, ANA, "https://hooks.example.org/x", "finished")
    with store.session() as s:
        found = j.notify_settings(s, "ana")
        assert (found.webhook_url, found.events) == ("https://hooks.example.org/x", "finished")
