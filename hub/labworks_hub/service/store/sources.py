"""Data sources in the store (service/sources does the access and the I/O).

- `DataSource`: one registered source: its kind, its non-secret config, and its credentials
  sealed with the platform's key (`service/sources/secrets.py`); never in clear text here.
- `SourceGrant`: read or write access of a user (`user:<name>`) or a group (`group:<name>`).
- `SourceAccessRequest`: someone asking its owner for access; answered by a grant.
- `SourceAuditEntry`: every access to an object or table, allowed or refused, and every read of
  a dataset's files. It names its source by text (`<name>` or `dataset:<owner>/<name>`), not by
  key, so the audit outlives what it audits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .models import Base, UTCDateTime, utcnow

FOLDER, S3, POSTGRES = "folder", "s3", "postgres"
KINDS = (FOLDER, S3, POSTGRES)
READ, WRITE = "read", "write"
PENDING, GRANTED, DECLINED = "pending", "granted", "declined"


class DataSource(Base):
    __tablename__ = "lw_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(255), index=True)
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    credentials: Mapped[str] = mapped_column(Text, default="")  # sealed; "" none
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SourceGrant(Base):
    __tablename__ = "lw_source_grants"

    source_id: Mapped[int] = mapped_column(
        ForeignKey("lw_sources.id", ondelete="CASCADE"), primary_key=True
    )
    principal: Mapped[str] = mapped_column(String(300), primary_key=True)
    access: Mapped[str] = mapped_column(String(8))
    granted_by: Mapped[str] = mapped_column(String(255))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SourceAccessRequest(Base):
    __tablename__ = "lw_source_requests"
    __table_args__ = (Index("ix_lw_source_requests_source_status", "source_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("lw_sources.id", ondelete="CASCADE"))
    user: Mapped[str] = mapped_column(String(255), index=True)
    access: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by: Mapped[str] = mapped_column(String(255), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class SourceAuditEntry(Base):
    __tablename__ = "lw_source_audit"
    __table_args__ = (Index("ix_lw_source_audit_source_at", "source", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(300))
    user: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16))
    object: Mapped[str] = mapped_column(Text, default="")
    bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    rows: Mapped[int | None] = mapped_column(BigInteger, default=None)
    allowed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    origin: Mapped[str] = mapped_column(String(200), default="")
