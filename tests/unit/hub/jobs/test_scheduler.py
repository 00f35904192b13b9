"""Cron schedules: checking expressions and time zones, previews across DST, firing due ones
(on SQLite and PostgreSQL: `store` of tests/conftest.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from labworks_hub.service.jobs import scheduler
from labworks_hub.service.store import jobs as j

from .conftest import ANA, notebook


@pytest.mark.parametrize(
    ("expression", "normalized"),
    [("*/15  *  * * 1-5", "*/15 * * * 1-5"), ("@Daily", "@daily"), ("0 6 1,15 * *", None)],
)
def test_valid_expressions_are_normalized(expression, normalized):
    assert scheduler.check_cron(expression) == (normalized or expression)


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("* * * *", "use five fields"),
        ("0 * * * * *", "use five fields"),  # croniter's seconds field is not offered
        ("61 * * * *", "each field takes numbers"),
        ("every day", "use five fields"),
    ],
)
def test_invalid_expressions_say_how_to_write_one(expression, message):
    with pytest.raises(scheduler.ScheduleError, match=message):
        scheduler.check_cron(expression)


def test_an_unknown_time_zone_is_refused():
    with pytest.raises(scheduler.ScheduleError, match="unknown time zone 'Mars/Olympus'"):
        scheduler.check_timezone("Mars/Olympus")


def test_next_times_are_in_the_time_zone_across_a_dst_change():
    after = datetime(2026, 3, 28, 12, 0, tzinfo=UTC)
    times = scheduler.next_times("0 9 * * *", "Europe/Berlin", after)
    assert [t.isoformat() for t in times] == [
        "2026-03-29T09:00:00+02:00",  # summer time began that night
        "2026-03-30T09:00:00+02:00",
        "2026-03-31T09:00:00+02:00",
    ]
    assert scheduler.next_time("0 9 * * *", "Europe/Berlin", after) == datetime(
        2026, 3, 29, 7, 0, tzinfo=UTC
    )


def test_next_times_are_strictly_after():
    at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert scheduler.next_times("0 10 * * *", "UTC", at, 1)[0].day == 24


def add_schedule(store, cron: str, next_run: datetime, paused: bool = False) -> str:
    with store.session() as s:
        sha = j.save_notebook(s, json.dumps(notebook("1")))
        d = j.create_definition(
            s, ANA, None, name="n", notebook_path="", notebook_sha256=sha, parameters={},
            profile="cpu-small", kernel_name="python3", image="", timeout=60, max_retries=0,
            priority=0,
        )  # fmt: skip
        schedule = j.JobSchedule(definition_id=d.id, cron=cron, next_run_at=next_run, paused=paused)
        s.add(schedule)
        s.flush()
        return schedule.id


def fire(store, now: datetime) -> list[str]:
    def make_run(session, schedule):
        return j.create_run(session, schedule.definition, trigger="schedule",
                            schedule_id=schedule.id, now=now)  # fmt: skip

    with store.session() as s:
        return [run.schedule_id for run in scheduler.fire_due(s, now, make_run)]


def test_due_schedules_fire_once_and_move_to_their_next_time(store):
    start = datetime(2026, 11, 23, 10, 1, tzinfo=UTC)
    every_minute = add_schedule(store, "* * * * *", start)
    add_schedule(store, "* * * * *", start, paused=True)
    assert fire(store, start.replace(second=0, minute=0)) == []  # not due yet
    assert fire(store, start) == [every_minute]
    assert fire(store, start) == []  # moved on: 10:02
    with store.session() as s:
        schedule = s.get(j.JobSchedule, every_minute)
        assert (schedule.last_run_at, schedule.next_run_at) == (start, start.replace(minute=2))


def test_missed_firings_are_caught_up_once(store):
    start = datetime(2026, 11, 23, 10, 1, tzinfo=UTC)
    schedule_id = add_schedule(store, "* * * * *", start)
    late = start.replace(minute=30, second=5)  # the service was down for half an hour
    assert fire(store, late) == [schedule_id]
    with store.session() as s:
        assert s.get(j.JobSchedule, schedule_id).next_run_at == start.replace(minute=31)
        assert j.list_runs(s, ANA, schedule_id=schedule_id)[1] == 1


@pytest.mark.parametrize("zone", ["Europe", "x" * 5000, "../../etc/passwd"])
def test_a_time_zone_is_looked_up_in_the_list_not_on_disk(zone):
    with pytest.raises(scheduler.ScheduleError, match="unknown time zone"):
        scheduler.next_times("0 9 * * *", zone, datetime(2026, 1, 1, tzinfo=UTC))


def test_an_expression_that_never_fires_is_a_schedule_error():
    with pytest.raises(scheduler.ScheduleError, match=r"'0 0 31 2 \*' never fires"):
        scheduler.next_times("0 0 31 2 *", "UTC", datetime(2026, 1, 1, tzinfo=UTC))


def test_a_paused_schedule_has_no_next_run() -> None:
    now = datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)
    assert scheduler.next_run("*/5 * * * *", "UTC", True, now) is None
    assert scheduler.next_run("*/5 * * * *", "UTC", False, now) == now.replace(minute=5, second=0)
