"""Administration of people and groups: each change is a row in the store first, then what
makes it count at once elsewhere.

- Disable or delete a user: their hub user goes (their servers stop, every API and OAuth token
  and login session of theirs dies), their queued and running jobs are cancelled and their
  schedules paused; the service forgets what the hub told it about them. They cannot log in
  (the authenticator asks the store). What they own stays theirs until handed over.
- Enable: they may log in again; their schedules stay paused until they resume them.
- Transfer: everything a user owns (store rows, dataset files, MLflow experiments and models)
  becomes another user's.
- Groups: created, deleted and their members changed in the store, mirrored into the hub's
  groups; a deleted group's shares become private.

Who may do this (admins) is the router's dependency; refusals are access kinds.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .access import Conflict, Invalid, NotFound, Unavailable, Viewer
from .auth import HubIdentity
from .hubapi import HubAdmin, HubError
from .jobs.artifacts import ArtifactError, ArtifactStore
from .jobs.service import JobService
from .store import Store, handover
from .store import accounts as people
from .store import groups as teams
from .store import jobs as job_store
from .store import sweeps as sweep_store
from .store.datasets import blob_prefix, dataset_prefix
from .store.models import Account, Group, utcnow
from .store.sweeps import Sweep
from .tracking.server import TrackingServer

log = logging.getLogger("labworks.service")


@dataclass(frozen=True)
class UserInfo:
    name: str
    admin: bool
    groups: list[str]
    disabled: bool
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> UserInfo:
        return cls(account.name, account.admin, account.groups, account.disabled,
                   account.created_at)  # fmt: skip


@dataclass(frozen=True)
class GroupInfo:
    name: str
    members: list[str]

    @classmethod
    def of(cls, group: Group) -> GroupInfo:
        return cls(group.name, group.member_names)


@dataclass
class Administration:
    """The parts an administrative change reaches (the app's, handed over by the router)."""

    store: Store
    hub: HubAdmin
    identity: HubIdentity
    jobs: JobService
    tracking: TrackingServer
    artifacts: ArtifactStore

    # --- users -------------------------------------------------------------------------------

    async def users(self) -> list[UserInfo]:
        return await self.store.run(lambda s: [UserInfo.of(a) for a in people.list_accounts(s)])

    async def disable(self, admin: Viewer, name: str) -> UserInfo:
        def work(session: Session) -> UserInfo:
            account = people.live_account(session, name)
            _not_yourself(admin, name, "disable")
            if account.admin:
                people.check_other_admin(session, name)
            return UserInfo.of(people.set_disabled(session, name, True))

        user = await self.store.run(work)
        await self._shut_out(name)
        return user

    async def enable(self, name: str) -> UserInfo:
        return await self.store.run(lambda s: UserInfo.of(people.set_disabled(s, name, False)))

    async def delete(self, admin: Viewer, name: str) -> None:
        def work(session: Session) -> None:
            account = people.get_account(session, name)
            _not_yourself(admin, name, "delete")
            if account is not None and account.admin and not account.deleted:
                people.check_other_admin(session, name)
            people.delete_account(session, name)

        await self.store.run(work)
        await self._shut_out(name)  # the hub user goes with its group memberships

    async def transfer(self, name: str, to: str) -> dict[str, int]:
        """Hand everything `name` owns to `to` (a user who may log in)."""
        if to == name:
            raise Invalid(f"{name!r} cannot hand their things to themselves; name another user")

        def check(session: Session) -> list[str]:
            if people.get_account(session, name) is None:  # a deleted one hands over too
                raise NotFound(f"no user {name!r}")
            receiver = people.live_account(session, to)
            if receiver.disabled:
                raise Conflict(f"user {to!r} is disabled; enable them or choose another user")
            handover.check_clashes(session, name, to)
            return handover.owned_datasets(session, name)

        datasets = await self.store.run(check)
        await self._copy_datasets(name, to, datasets)
        moved = await self.store.run(handover.transfer, name, to)
        for dataset in datasets:
            await asyncio.to_thread(self.artifacts.delete_prefix, dataset_prefix(name, dataset))
        await self.tracking.ready()
        moved |= await asyncio.to_thread(
            handover.transfer_tracking, self.tracking.auth_store, name, to
        )
        log.info("Handed what %r owned to %r: %s", name, to, moved)
        return moved

    async def _copy_datasets(self, name: str, to: str, datasets: list[str]) -> None:
        """Copy the files of the datasets (keyed by owner) to the new owner's place first: a
        failure leaves the datasets where they were."""

        def copy() -> None:
            for dataset in datasets:
                source, target = blob_prefix(name, dataset), blob_prefix(to, dataset)
                for blob in self.artifacts.sizes(source):
                    opened = self.artifacts.open(f"{source}/{blob}")
                    if opened is not None:
                        with opened[0] as data:
                            self.artifacts.put_file(f"{target}/{blob}", data)

        try:
            await asyncio.to_thread(copy)
        except ArtifactError as e:
            raise Unavailable(f"nothing was handed over: {e}") from None

    async def _shut_out(self, name: str) -> None:
        """Stop what `name` is running and end their sessions, now."""
        cancelled = await self.store.run(_stop_jobs, name)
        self.jobs.wake()
        await self._hub(self.hub.remove_user(name))
        self.identity.forget(name)
        log.info("Shut out %r: hub user removed, %d job(s) cancelled", name, cancelled)

    # --- groups ------------------------------------------------------------------------------

    async def groups(self) -> list[GroupInfo]:
        return await self.store.run(lambda s: [GroupInfo.of(g) for g in teams.list_groups(s)])

    async def create_group(self, name: str) -> GroupInfo:
        group = await self.store.run(lambda s: GroupInfo.of(teams.create_group(s, name)))
        await self._hub(self.hub.create_group(name))
        return group

    async def delete_group(self, name: str) -> None:
        def work(session: Session) -> list[str]:
            members = teams.get_group(session, name).member_names
            teams.delete_group(session, name)
            handover.unshare_group(session, name)
            return members

        members = await self.store.run(work)
        await self._hub(self.hub.delete_group(name))
        await self.tracking.ready()
        await asyncio.to_thread(handover.unshare_tracking_group, self.tracking.auth_store, name)
        for member in members:
            self.identity.forget(member)

    async def set_member(self, group: str, user: str, member: bool) -> GroupInfo:
        change = teams.add_member if member else teams.remove_member
        found = await self.store.run(lambda s: GroupInfo.of(change(s, group, user)))
        await self._hub(self.hub.set_member(group, user, member))
        self.identity.forget(user)
        return found

    async def _hub(self, call: Any) -> None:
        """A hub call after the store changed: the store is the truth (logins set hub groups
        from it), so a hub that cannot be reached is reported, the change is not undone."""
        try:
            await call
        except HubError as e:
            raise Unavailable(f"saved, but the hub did not follow yet: {e}; try again") from None


def _not_yourself(admin: Viewer, name: str, doing: str) -> None:
    if admin.name == name:
        raise Conflict(f"you cannot {doing} yourself; ask another administrator")


def _stop_jobs(session: Session, name: str) -> int:
    """Stop the user's sweeps, cancel their queued and running jobs (as they could) and pause
    their schedules."""
    now = utcnow()
    session.execute(
        update(Sweep)
        .where(Sweep.owner == name, Sweep.status == sweep_store.RUNNING)
        .values(status=sweep_store.STOPPED, reason="its owner's account was shut",
                updated_at=now, finished_at=now)
    )  # fmt: skip
    owner = Viewer(name)
    active = select(job_store.JobRun.id).where(
        job_store.JobRun.owner == name, job_store.JobRun.status.in_(job_store.ACTIVE)
    )
    cancelled = 0
    for run_id in session.scalars(active).all():
        try:
            job_store.request_cancel(session, owner, run_id)
            cancelled += 1
        except Conflict:  # it ended meanwhile
            pass
    definitions = select(job_store.JobDefinition.id).where(job_store.JobDefinition.owner == name)
    session.execute(
        update(job_store.JobSchedule)
        .where(job_store.JobSchedule.definition_id.in_(definitions))
        .values(paused=True, next_run_at=None)  # a paused schedule has no next run
    )
    return cancelled
