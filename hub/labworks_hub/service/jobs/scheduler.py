"""Cron schedules: check an expression and a time zone, preview the next runs, fire what is due.

An expression has the five classic fields (minute hour day month weekday) or is one of the
`@hourly`-style aliases; it is evaluated in the schedule's IANA time zone, so `0 9 * * 1-5`
means 9:00 on weekdays where the user lives, across daylight-saving changes (croniter).

Firing (`fire_due`) creates one queued run per due schedule and moves `next_run_at` to the
first time after now, in the same transaction: a schedule whose firings were missed while the
service was down fires once when it comes back, not once per missed time. A paused schedule
has no `next_run_at` (`next_run`); resuming it sets the first time after the resume.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, available_timezones

from croniter import CroniterBadDateError, croniter
from sqlalchemy.orm import Session

from ..store import jobs as store
from ..store.jobs import JobRun, JobSchedule

ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")


class ScheduleError(ValueError):
    """A bad cron expression or time zone; the message is user-facing."""


def check_cron(expression: str) -> str:
    """The expression, normalized (single spaces); ScheduleError says what is wrong."""
    text = " ".join(expression.split())
    if text.lower() in ALIASES:
        return text.lower()
    if len(text.split()) != 5:
        raise ScheduleError(
            f"invalid cron expression {expression!r}: use five fields (minute hour day month"
            " weekday), e.g. '0 6 * * 1-5', or one of " + ", ".join(ALIASES)
        )
    if not croniter.is_valid(text):
        raise ScheduleError(
            f"invalid cron expression {expression!r}: each field takes numbers, ranges (1-5),"
            " lists (1,3), steps (*/15) or *"
        )
    return text


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_timezone(name: str) -> ZoneInfo:
    """The zone of an IANA name; looked up in the list first, because ZoneInfo() itself would
    open any file below its root (a 5,000-character name or `Europe` raise OSError there)."""
    if name not in _time_zones():
        raise ScheduleError(
            f"unknown time zone {name!r}: use an IANA name such as UTC or Europe/Berlin"
        )
    return ZoneInfo(name)


def next_times(expression: str, timezone: str, after: datetime, count: int = 3) -> list[datetime]:
    """The next `count` firing times strictly after `after`, in the schedule's time zone;
    ScheduleError when the expression never fires (e.g. 31 February)."""
    zone = check_timezone(timezone)
    it = croniter(check_cron(expression), after.astimezone(zone))
    try:
        return [it.get_next(datetime).astimezone(zone) for _ in range(count)]
    except CroniterBadDateError:
        raise ScheduleError(
            f"cron {expression!r} never fires: no date matches it (e.g. 31 February)"
        ) from None


def next_time(expression: str, timezone: str, after: datetime) -> datetime:
    return next_times(expression, timezone, after, 1)[0].astimezone(UTC)


def next_run(expression: str, timezone: str, paused: bool, now: datetime) -> datetime | None:
    """When a schedule fires next: None while it is paused (it does not fire, so it lists no
    next run); resuming computes the first time after `now` again."""
    return None if paused else next_time(expression, timezone, now)


def fire_due(
    session: Session, now: datetime, make_run: Callable[[Session, JobSchedule], JobRun | None]
) -> list[JobRun]:
    """Queue a run for every schedule due at `now` and move each to its next time.

    `make_run` queues the run of a schedule (the job service's, so profile and environment are
    decided the same way as for a submitted job); it returns None when the schedule could not
    run now (e.g. its profile was removed) after recording why.
    """
    fired = []
    for schedule in store.schedules_due(session, now):
        if not store.advance_schedule(
            session, schedule, now, next_time(schedule.cron, schedule.timezone, now)
        ):
            continue  # another transaction fired it first
        run = make_run(session, schedule)
        if run is not None:
            fired.append(run)
    session.flush()
    return fired
