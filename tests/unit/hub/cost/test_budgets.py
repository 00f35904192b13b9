"""Budgets at work, on SQLite and PostgreSQL, on a fake clock: each threshold alerts once (a
restarted meter too), user alerts go to the user's notification settings and group alerts to
the admin destination, a spent budget refuses new work with a message naming it and who can
raise it (admins and overrides pass), and idle GPU workspaces (NVML double) alert once and stop
per configuration."""

from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from traitlets.config import Config

from labworks_hub.gpus import workspace_holder
from labworks_hub.service.access import Forbidden, Viewer
from labworks_hub.service.cost import report as r
from labworks_hub.service.cost.budgets import CostBudgets, budget_check, refuses
from labworks_hub.service.cost.nvml import DeviceSample, GPUReading
from labworks_hub.service.cost.subjects import Subject
from labworks_hub.service.jobs.notify import Notice, Notifier
from labworks_hub.service.store import jobs as j
from labworks_hub.service.store.cost import WORKSPACE, CostAlert
from labworks_hub.service.store.gpus import GPULease
from labworks_hub.service.store.models import Account, utcnow

from .conftest import ANA, CAL, ROOT, START, FakeGPUs, job, make_meter, people, set_job
from .test_report import row


class Recorder(Notifier):
    """A notifier double: remembers what it was asked to send, and accepts it."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, Notice]] = []

    async def send(self, destination: str, notice: Notice) -> bool:
        self.sent.append((destination, notice))
        return True


def budgets(**traits) -> CostBudgets:
    return CostBudgets(config=Config({"CostBudgets": traits}))


def staff(store, *extra: str) -> None:
    """people(), with root (and `extra`) administrators in the accounts table."""
    people(store)
    with store.session() as s:
        s.scalars(select(Account).where(Account.name == "root")).one().admin = True
        s.add_all(Account(name=n, password_hash="x", admin=True) for n in extra)


def set_budget(store, scope: str, name: str, usd: float, **kwargs) -> None:
    with store.session() as s:
        r.set_budget(s, ROOT, scope, name, usd, [50, 80, 100], START, **kwargs)


def webhook_of(store, viewer: Viewer, url: str) -> None:
    with store.session() as s:
        j.save_notify_settings(s, viewer, url, "failed")


def thresholds(sent: list[tuple[str, Notice]]) -> list[int]:
    return [notice.payload["threshold"] for _, notice in sent]


async def test_each_threshold_alerts_once_a_month_even_across_a_restart(store, clock):
    staff(store)
    set_budget(store, "user", "ana", 1.0)
    webhook_of(store, ANA, "https://hooks.example.org/ana")
    run_id = job(store, profile="fixed")  # a cent a second
    set_job(store, run_id, "running", START)
    hook = Recorder()

    def meter():
        return make_meter(store, clock, budgets=budgets(), notifiers={"webhook_url": hook})

    first = meter()
    clock.advance(55)
    await first.sample()
    await first.sample()
    assert thresholds(hook.sent) == [50]
    restarted = meter()  # a restart: the 50% alert is in the store, not in memory
    await restarted.sample()
    assert thresholds(hook.sent) == [50]
    clock.advance(30)
    await restarted.sample()
    assert thresholds(hook.sent) == [50, 80]
    clock.advance(30)
    await restarted.sample()
    await meter().sample()
    assert thresholds(hook.sent) == [50, 80, 100]
    destination, notice = hook.sent[1]
    assert destination == "https://hooks.example.org/ana"
    assert notice.event == "cost.budget_alert"
    assert notice.payload["budget"] == {"scope": "user", "name": "ana", "monthly_usd": 1.0}
    assert notice.payload["month"] == "2026-11"
    assert notice.payload["raise_by"] == ["root"]
    assert notice.payload["spent_usd"] == pytest.approx(0.85)
    assert "root" in notice.text and "80%" in notice.text
    with store.session() as s:
        rows = s.scalars(select(CostAlert).order_by(CostAlert.key)).all()
        assert [(a.key, a.delivered) for a in rows] == [
            (f"budget/user/ana/2026-11/{t}", 1) for t in (100, 50, 80)
        ]


async def test_a_group_budget_alerts_the_admin_destination_not_the_members(store, clock):
    people(store)
    set_budget(store, "group", "ml", 0.5)
    webhook_of(store, ANA, "https://hooks.example.org/ana")
    run_id = job(store, owner="ben", profile="fixed")
    set_job(store, run_id, "running", START)
    hook, mail = Recorder(), Recorder()
    config = budgets(admin_webhook="https://hooks.example.org/ops", admin_email="ops@example.org")
    meter = make_meter(store, clock, budgets=config,
                       notifiers={"webhook_url": hook, "email": mail})  # fmt: skip
    clock.advance(45)  # 0.45 of 0.50: 90%
    await meter.sample()
    assert [(d, n.payload["threshold"]) for d, n in hook.sent] == [
        ("https://hooks.example.org/ops", 50), ("https://hooks.example.org/ops", 80)
    ]  # fmt: skip
    assert [d for d, _ in mail.sent] == ["ops@example.org"] * 2
    assert "Group ml's budget" in hook.sent[0][1].text


def test_a_spent_budget_refuses_new_work_naming_the_budget_and_who_raises_it(store):
    staff(store, "zoe")
    set_budget(store, "user", "ana", 1.0)
    add_usage(store, "ana", 1.25)
    now = START + timedelta(hours=1)
    with store.session() as s:
        with pytest.raises(Forbidden) as refused:
            budget_check(s, ANA, "job", False, "all", now)
        message = refused.value.message
        assert "your budget for 2026-11 is spent: 1.25 of 1.00 (125%)" in message
        assert "new jobs are refused" in message
        assert "an administrator (root, zoe)" in message
        assert "labworks cost budgets set user ana" in message
        budget_check(s, CAL, "job", False, "all", now)  # no budget of cal's
        budget_check(s, ROOT, "job", True, "all", now)  # admins pass
        budget_check(s, ANA, "workspace", False, "all", now)  # a CPU workspace: files stay
        budget_check(s, ANA, "job", False, "gpu", now)  # gpu: only GPU work is refused
        budget_check(s, ANA, "job", True, "none", now)
        with pytest.raises(Forbidden, match="new GPU workspaces are refused"):
            budget_check(s, ANA, "workspace", True, "all", now)
        with pytest.raises(Forbidden, match="new sweeps are refused"):
            budget_check(s, ANA, "sweep", True, "gpu", now)


def test_a_group_budget_refuses_its_members_and_an_override_lets_them_through(store):
    people(store)
    set_budget(store, "group", "ml", 1.0)
    add_usage(store, "ben", 1.0)
    now = START + timedelta(hours=1)
    with store.session() as s:
        with pytest.raises(Forbidden, match=r"group 'ml'.s budget for 2026-11 is spent"):
            budget_check(s, ANA, "deployment", False, "all", now)
        budget_check(s, CAL, "deployment", False, "all", now)  # not a member
    set_budget(store, "group", "ml", 1.0, override_until=now + timedelta(days=1))
    with store.session() as s:
        budget_check(s, ANA, "deployment", False, "all", now)
        listed = r.list_budgets(s, ANA, now)["budgets"]
        assert listed[0]["override_until"] == now + timedelta(days=1)
        with pytest.raises(Forbidden):  # the override has run out
            budget_check(s, ANA, "deployment", False, "all", now + timedelta(days=2))


def test_a_spent_budget_refuses_a_new_deployment_per_the_rule(store):
    from labworks_hub.service.serving import models as serving_models
    from labworks_hub.service.serving import operations as serving

    staff(store)
    set_budget(store, "user", "ana", 1.0)
    add_usage(store, "ana", 2.0, utcnow().date())  # create() asks at the real time
    body = serving_models.ServeRequest(model="Iris", version="1", name="iris")
    with store.session() as s:
        with pytest.raises(Forbidden, match="new deployments are refused"):
            serving.create(s, ANA, body, "classification", "all")
        assert serving.create(s, ANA, body, "classification", "gpu").name == "iris"


def test_what_each_rule_refuses():
    assert refuses("all", "job", False) and refuses("all", "workspace", True)
    assert not refuses("all", "workspace", False)
    assert refuses("gpu", "sweep", True) and not refuses("gpu", "sweep", False)
    assert not refuses("none", "job", True)


def add_usage(store, owner: str, cost: float, day: date | None = None) -> None:
    with store.session() as s:
        s.add(row(owner, "job", f"job-{owner}", day or START.date(), cost))


# --- idle GPUs -----------------------------------------------------------------------------


class Hub:
    """The hub's running servers as the test says, and the servers it was asked to stop."""

    def __init__(self, *subjects: Subject) -> None:
        self.subjects = list(subjects)
        self.stopped: list[str] = []

    async def running(self, default_profile: str) -> list[Subject]:
        return list(self.subjects)

    async def stop(self, workspace: str) -> None:
        self.stopped.append(workspace)


def gpu_workspace(store, last_activity=None) -> Subject:
    with store.session() as s:
        s.add(GPULease(host="here", gpu_index=0, holder=workspace_holder("ana", "gpu"),
                       owner="ana"))  # fmt: skip
    return Subject(WORKSPACE, "ana/gpu", "ana", "gpu", "small", START, pid=os.getpid(),
                   gpu_holder=workspace_holder("ana", "gpu"),
                   last_activity=last_activity)  # fmt: skip


def gpus_at(percent: float) -> FakeGPUs:
    return FakeGPUs(GPUReading(devices={0: DeviceSample(0, "H100", percent, 1 << 30)}))


async def test_an_idle_gpu_workspace_alerts_once_and_is_stopped(store, clock):
    people(store)
    webhook_of(store, ANA, "https://hooks.example.org/ana")
    hub, hook, gpus = Hub(gpu_workspace(store)), Recorder(), gpus_at(2.0)
    config = budgets(idle_gpu_minutes=10, idle_gpu_action="stop")
    meter = make_meter(store, clock, gpus=gpus, workspaces=hub, budgets=config,
                       notifiers={"webhook_url": hook})  # fmt: skip
    await meter.sample()
    clock.advance(9 * 60)
    await meter.sample()
    assert hook.sent == [] and hub.stopped == []  # 9 minutes under 5%: not yet
    clock.advance(60)
    await meter.sample()
    clock.advance(60)
    await meter.sample()
    assert hub.stopped == ["ana/gpu"]
    assert [n.event for _, n in hook.sent] == ["cost.idle_gpu"]  # once
    payload = hook.sent[0][1].payload
    assert (payload["workspace"], payload["gpu_utilization"]) == ("ana/gpu", 2.0)
    assert "being stopped" in payload["message"]


async def test_a_busy_gpu_or_a_busy_kernel_is_never_idle(store, clock):
    people(store)
    webhook_of(store, ANA, "https://hooks.example.org/ana")
    server = gpu_workspace(store)
    hub, hook, gpus = Hub(server), Recorder(), gpus_at(2.0)
    config = budgets(idle_gpu_minutes=10, idle_gpu_action="stop")
    meter = make_meter(store, clock, gpus=gpus, workspaces=hub, budgets=config,
                       notifiers={"webhook_url": hook})  # fmt: skip
    await meter.sample()
    clock.advance(8 * 60)
    gpus.reading = gpus_at(60.0).reading  # busy for a sample: the count starts again
    await meter.sample()
    gpus.reading = gpus_at(1.0).reading
    clock.advance(60)
    await meter.sample()
    clock.advance(5 * 60)
    await meter.sample()
    assert hook.sent == []
    # under 5% for long enough, but a kernel ran a minute ago (the hub's last_activity)
    hub.subjects = [Subject(**{**server.__dict__, "last_activity": clock.now})]
    clock.advance(6 * 60)
    hub.subjects = [Subject(**{**server.__dict__, "last_activity": clock.now})]
    await meter.sample()
    assert hook.sent == [] and hub.stopped == []


# --- running work of a spent budget ---------------------------------------------------------


async def test_with_stop_a_spent_budget_stops_its_work_after_the_grace_period(store, clock):
    staff(store)
    set_budget(store, "user", "ana", 0.1)
    running = job(store, profile="fixed")
    set_job(store, running, "running", START)
    queued = job(store)
    other = job(store, owner="cal")
    set_job(store, other, "running", START)
    admins_job = job(store, owner="root")
    set_job(store, admins_job, "running", START)
    config = budgets(over_budget_action="stop", grace_period=60)
    meter = make_meter(store, clock, budgets=config)
    clock.advance(15)  # 0.15 of 0.10: spent
    await meter.sample()
    clock.advance(30)
    await make_meter(store, clock, budgets=config).sample()  # a restart keeps the grace's start

    def status(run_id: str) -> tuple[str, bool]:
        with store.session() as s:
            run = s.get(j.JobRun, run_id)
            return run.status, run.cancel_requested

    assert status(running) == ("running", False) and status(queued)[0] == "queued"
    clock.advance(30)  # 60 s since it was first seen spent
    await meter.sample()
    assert status(running) == ("running", True)  # the job service stops it
    assert status(queued)[0] == "cancelled"
    assert status(other) == ("running", False) and status(admins_job) == ("running", False)


async def test_with_continue_or_an_override_running_work_goes_on(store, clock):
    staff(store)
    set_budget(store, "user", "ana", 0.1, override_until=START + timedelta(days=1))
    running = job(store, profile="fixed")
    set_job(store, running, "running", START)
    meter = make_meter(store, clock, budgets=budgets(over_budget_action="stop", grace_period=0))
    clock.advance(60)
    await meter.sample()
    await make_meter(store, clock, budgets=budgets(grace_period=0)).sample()  # continue
    with store.session() as s:
        assert not s.get(j.JobRun, running).cancel_requested
