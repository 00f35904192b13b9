"""ORM models of the platform store. Every table is prefixed `lw_` so the store can share a
database with JupyterHub's own tables."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ..access import Shareable


def utcnow() -> datetime:
    """Now, in UTC: the one clock of the store."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite hands back naive values): the
    one SQLite time-zone fix of the store, so nothing above it repairs datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict: JSON, list: JSON}


class Account(Base):
    """A person who can log in to the hub. Only an Argon2 hash of the password is kept.

    Its lifecycle: `disabled` accounts cannot log in; a deleted one is a tombstone (`deleted_at`
    set, no password, no groups) kept so that its name can never be registered again and
    silently inherit what the leaver owned."""

    __tablename__ = "lw_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    group_rows: Mapped[list[Group]] = relationship(
        secondary="lw_group_members", back_populates="members", lazy="selectin",
        order_by="Group.name",
    )  # fmt: skip

    @property
    def groups(self) -> list[str]:
        """The names of its groups, sorted."""
        return sorted(group.name for group in self.group_rows)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def can_log_in(self) -> bool:
        return not (self.disabled or self.deleted)


group_members = Table(
    "lw_group_members",
    Base.metadata,
    Column("group_id", ForeignKey("lw_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ForeignKey("lw_accounts.id", ondelete="CASCADE"), primary_key=True),
)


class Group(Base):
    """A group of accounts (a hub group of the same name): what things are shared with
    (`group:<name>` visibility). It may have no members."""

    __tablename__ = "lw_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    members: Mapped[list[Account]] = relationship(
        secondary=group_members, back_populates="group_rows", lazy="selectin",
        order_by="Account.name",
    )  # fmt: skip

    @property
    def member_names(self) -> list[str]:
        """The names of its members, sorted (also right after a change in this session)."""
        return sorted(account.name for account in self.members)


class GalleryEntry(Shareable, Base):
    """A notebook published read-only to a group gallery (`visibility` is `group:<name>`); its
    content lives in its versions.

    One entry per (owner, group, name): publishing the same notebook again adds a version.
    """

    __tablename__ = "lw_gallery_entries"
    __table_args__ = (UniqueConstraint("owner", "visibility", "name", name="uq_lw_gallery_entry"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    versions: Mapped[list[GalleryVersion]] = relationship(
        back_populates="entry",
        order_by="GalleryVersion.number",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    @property
    def group(self) -> str:
        """The group whose gallery holds it (the API's `group`)."""
        return self.shared_as.group or ""


class GalleryVersion(Base):
    """One published copy of a gallery notebook: immutable, numbered from 1 per entry."""

    __tablename__ = "lw_gallery_versions"
    __table_args__ = (UniqueConstraint("entry_id", "number", name="uq_lw_gallery_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("lw_gallery_entries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    entry: Mapped[GalleryEntry] = relationship(back_populates="versions")


class Dataset(Shareable, Base):
    """A versioned dataset `<owner>/<name>`; its files are listed by its versions, and their
    contents are blobs in the artifact store (store/datasets.py)."""

    __tablename__ = "lw_datasets"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_lw_dataset"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    versions: Mapped[list[DatasetVersion]] = relationship(
        back_populates="dataset",
        order_by="DatasetVersion.number.desc()",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class DatasetVersion(Base):
    """One immutable manifest of a dataset, numbered from 1 per dataset. `files` is the list of
    {"path", "sha256", "size"} sorted by path; `digest` is sha256 over it."""

    __tablename__ = "lw_dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "number", name="uq_lw_dataset_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("lw_datasets.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(71))  # sha256:<64 hex>
    size: Mapped[int] = mapped_column(BigInteger)
    file_count: Mapped[int] = mapped_column(Integer)
    files: Mapped[list] = mapped_column(default=list, deferred=True)
    message: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    dataset: Mapped[Dataset] = relationship(back_populates="versions")
