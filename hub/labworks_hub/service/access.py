"""Who may see and change what, for every shareable thing of the platform (no FastAPI here).

- `Viewer`: who is asking (a hub user with their groups, or a service, which owns nothing).
- `Visibility`: who besides its owner sees a thing: `private`, `group:<name>` or `public`,
  stored as that text in one column by the `Shareable` mixin, whose `visible_to(viewer)` is the
  one SQL predicate of "may see it". Owners change their things; admins see everything through
  the admin views only, never through the predicate.
- `Refused` and its kinds: the one way domain code refuses a request. `errors.py` maps each to
  its HTTP status and code; routers never translate by hand.

A new shareable domain takes a model with `Shareable`, store functions taking a `Viewer` and
raising `Refused` kinds, and a router using the `viewer` dependency (docs/development.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import String, false, or_
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

PRIVATE = "private"
PUBLIC = "public"
GROUP = "group:"
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")  # hub user and group names


# --- refusals ---------------------------------------------------------------------------------


class Refused(Exception):
    """A request the platform will not do; the message is for a person and says what to do.
    `status` is the HTTP answer (errors.py), `code` its stable name."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @staticmethod
    def of_status(status: int, message: str) -> Refused:
        """The refusal kind of an HTTP `status` from code outside the service (the image
        catalog's errors carry one); Invalid for a status with no kind of its own."""
        kinds = {kind.status: kind for kind in _KINDS}
        return kinds.get(status, Invalid)(message)


class Invalid(Refused):
    """The input cannot be done as asked (a bad name, path, cron, parameter)."""

    status = 400
    code = "bad_request"


class Unauthenticated(Refused):
    """No hub token, or none the hub knows."""

    status = 401
    code = "unauthorized"


class Forbidden(Refused):
    """The caller may see the thing but not do this to it."""

    status = 403
    code = "forbidden"


class NotFound(Refused):
    """No such thing the caller may see: someone else's private thing gives the same answer."""

    status = 404
    code = "not_found"


class Conflict(Refused):
    """It conflicts with the current state (exists already, has moved on)."""

    status = 409
    code = "conflict"


class TooLarge(Refused):
    """Over a size limit; the message names it."""

    status = 413
    code = "too_large"


class Unprocessable(Refused):
    """Well-formed but unusable content (a notebook that is not one)."""

    status = 422
    code = "invalid"


class Unavailable(Refused):
    """A part the platform needs (the hub, the executor, storage) is down; try again."""

    status = 503
    code = "unavailable"


_KINDS = (Invalid, Unauthenticated, Forbidden, NotFound, Conflict, TooLarge, Unprocessable,
          Unavailable)  # fmt: skip


# --- who is asking ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who is asking. `name` is empty for a service token (it owns and sees nothing shared);
    `kind` is "user" or "service"; `admin` is the hub's admin flag."""

    name: str
    groups: frozenset[str] = frozenset()
    admin: bool = False
    kind: str = "user"

    @property
    def is_user(self) -> bool:
        return self.kind == "user" and bool(self.name)

    def owns(self, owner: str | None) -> bool:
        return self.is_user and owner == self.name

    def require_user(self, doing: str) -> None:
        """Forbidden unless a user asks (services own nothing): `doing` says what, e.g.
        "publish to the gallery"."""
        if not self.is_user:
            raise Forbidden(f"only users can {doing}, not service tokens")


# --- visibility -------------------------------------------------------------------------------


def check_name(name: str, what: str = "user name") -> str:
    """`name` if it is a valid hub user or group name; Invalid (naming `what`) otherwise."""
    if not NAME_RE.match(name):
        raise Invalid(
            f"invalid {what} {name!r}: use 1-63 lowercase letters, digits, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class Visibility:
    """`private`, `group:<name>` or `public`, parsed and checked."""

    value: str

    @property
    def group(self) -> str | None:
        return self.value.removeprefix(GROUP) if self.value.startswith(GROUP) else None

    @classmethod
    def parse(cls, text: str) -> Visibility:
        """Invalid unless `text` is one of the three forms, with a valid group name."""
        value = text.strip() if isinstance(text, str) else ""
        if value in (PRIVATE, PUBLIC):
            return cls(value)
        if not value.startswith(GROUP) or value == GROUP:
            raise Invalid(
                f"invalid visibility {text!r}: use 'private', 'public' or 'group:<group name>'"
            )
        check_name(value.removeprefix(GROUP), "group name")
        return cls(value)

    @classmethod
    def of_group(cls, group: str | None) -> Visibility:
        """`group:<group>`, or private for no group."""
        return cls(GROUP + group) if group else cls(PRIVATE)

    def settable_by(self, viewer: Viewer) -> Visibility:
        """This visibility if `viewer` may give it: sharing with a group needs membership."""
        if self.group is not None and self.group not in viewer.groups:
            raise Forbidden(
                f"you are not a member of group {self.group!r}; share with a group of yours"
                " (an administrator adds you to one with `labworks groups add`)"
            )
        return self

    def visible_to(self, owner: str | None, viewer: Viewer) -> bool:
        """The predicate of `Shareable.visible_to`, for one thing already loaded."""
        if viewer.owns(owner):
            return True
        if not viewer.is_user:
            return False
        return self.value == PUBLIC or (self.group is not None and self.group in viewer.groups)

    def __str__(self) -> str:
        return self.value


class Shareable:
    """An owned row that its owner may share: `owner` (a hub user name) and `visibility`."""

    owner: Mapped[str] = mapped_column(String(255), index=True)
    visibility: Mapped[str] = mapped_column(String(300), default=PRIVATE, index=True)

    @classmethod
    def visible_to(cls, viewer: Viewer) -> ColumnElement[bool]:
        """SQL: the rows `viewer` may see (theirs, their groups', public ones)."""
        if not viewer.is_user:
            return false()
        return or_(
            cls.owner == viewer.name,
            cls.visibility == PUBLIC,
            cls.visibility.in_(sorted(GROUP + g for g in viewer.groups)),
        )

    @property
    def shared_as(self) -> Visibility:
        return Visibility(self.visibility or PRIVATE)
