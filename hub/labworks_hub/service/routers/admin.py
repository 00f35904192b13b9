"""Administration over REST, for hub admins only (403 for everyone else, 401 without a token):
users (list, disable, enable, delete, hand over what they own) and groups (list, create,
delete, members). What each change does is service/lifecycle.py's."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from ..access import Forbidden, Viewer
from ..auth import viewer
from ..hubapi import HubAdmin
from ..lifecycle import Administration
from .jobs_common import service_of

router = APIRouter(prefix="/admin", tags=["admin"])
UserName = Path(description="A hub user name.", max_length=255)
GroupName = Path(description="A group name.", max_length=255)


async def admin_viewer(who: Viewer = Depends(viewer)) -> Viewer:
    """The caller, who must be a hub administrator."""
    if not (who.is_user and who.admin):
        raise Forbidden("only administrators may manage users and groups")
    return who


def administration(request: Request, _admin: Viewer = Depends(admin_viewer)) -> Administration:
    state = request.app.state
    if getattr(state, "hub_admin", None) is None:  # one, with its kept HTTP client
        state.hub_admin = HubAdmin(state.settings.hub_api_url, state.settings.api_token)
    return Administration(
        store=state.store,
        hub=state.hub_admin,
        identity=state.identity,
        jobs=service_of(request.app),
        tracking=state.tracking,
        artifacts=state.artifacts,
    )


class User(BaseModel):
    name: str
    admin: bool
    groups: list[str]
    disabled: bool
    created_at: datetime


class UserList(BaseModel):
    users: list[User]


class Group(BaseModel):
    name: str
    members: list[str] = Field(description="User names, sorted.")


class GroupList(BaseModel):
    groups: list[Group]


class NewGroup(BaseModel):
    name: str = Field(max_length=255, examples=["ml"])


class TransferRequest(BaseModel):
    to: str = Field(max_length=255, description="The user who receives everything.")


class Moved(BaseModel):
    moved: dict[str, int] = Field(
        description="How many of each kind changed owner: experiments, models, datasets,"
        " gallery, jobs, schedules."
    )


def _user(info) -> User:
    return User.model_validate(info, from_attributes=True)


def _group(info) -> Group:
    return Group.model_validate(info, from_attributes=True)


@router.get("/users", response_model=UserList)
async def list_users(admin: Administration = Depends(administration)) -> UserList:
    """Every account (deleted ones are not listed), with its groups and whether it is disabled."""
    return UserList(users=[_user(u) for u in await admin.users()])


@router.post("/users/{user}/disable", response_model=User)
async def disable_user(
    user: str = UserName,
    who: Viewer = Depends(admin_viewer),
    admin: Administration = Depends(administration),
) -> User:
    """They cannot log in, their tokens and sessions end, their servers stop, their jobs are
    cancelled and schedules paused, now. Idempotent; 409 for yourself or the last admin."""
    return _user(await admin.disable(who, user))


@router.post("/users/{user}/enable", response_model=User)
async def enable_user(
    user: str = UserName, admin: Administration = Depends(administration)
) -> User:
    """They may log in again (their schedules stay paused). Idempotent."""
    return _user(await admin.enable(user))


@router.delete("/users/{user}", status_code=204)
async def delete_user(
    user: str = UserName,
    who: Viewer = Depends(admin_viewer),
    admin: Administration = Depends(administration),
) -> Response:
    """As disable, and the account becomes a tombstone: the name can never be registered
    again. What they owned stays theirs until handed over (`/transfer`). 409 for yourself."""
    await admin.delete(who, user)
    return Response(status_code=204)


@router.post("/users/{user}/transfer", response_model=Moved)
async def transfer(
    body: TransferRequest,
    user: str = UserName,
    admin: Administration = Depends(administration),
) -> Moved:
    """Make `to` the owner of everything the user owns (a deleted user's too); its sharing is
    kept. 409 when `to` has a dataset or gallery notebook of the same name, or is disabled."""
    return Moved(moved=await admin.transfer(user, body.to))


@router.get("/groups", response_model=GroupList)
async def list_groups(admin: Administration = Depends(administration)) -> GroupList:
    """Every group with its members."""
    return GroupList(groups=[_group(g) for g in await admin.groups()])


@router.post("/groups", response_model=Group, status_code=201)
async def create_group(body: NewGroup, admin: Administration = Depends(administration)) -> Group:
    """A new group with no members; 409 if it exists, 400 for a bad name."""
    return _group(await admin.create_group(body.name))


@router.delete("/groups/{group}", status_code=204)
async def delete_group(
    group: str = GroupName, admin: Administration = Depends(administration)
) -> Response:
    """Remove the group; everything shared with it becomes private to its owner."""
    await admin.delete_group(group)
    return Response(status_code=204)


@router.put("/groups/{group}/members/{user}", response_model=Group)
async def add_member(
    group: str = GroupName,
    user: str = UserName,
    admin: Administration = Depends(administration),
) -> Group:
    """Put a user in the group, effective at once (idempotent)."""
    return _group(await admin.set_member(group, user, True))


@router.delete("/groups/{group}/members/{user}", response_model=Group)
async def remove_member(
    group: str = GroupName,
    user: str = UserName,
    admin: Administration = Depends(administration),
) -> Group:
    """Take a user out of the group, effective at once (idempotent)."""
    return _group(await admin.set_member(group, user, False))
