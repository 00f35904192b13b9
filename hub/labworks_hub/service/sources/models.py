"""Wire types of the sources API (pydantic; they make the OpenAPI schema), and the config and
credentials each kind of source takes."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..access import NAME_RE
from ..validation import Text, check_name

Kind = Literal["folder", "s3", "postgres"]
Access = Literal["read", "write"]
CallerAccess = Literal["none", "read", "write", "owner"]
PRINCIPAL_RE = r"^(user|group):[a-z0-9][a-z0-9._-]{0,62}$"
MAX_TAGS = 20
MAX_LIMIT = 100_000
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
TABLE_RE = r"^[A-Za-z_][A-Za-z0-9_$]{0,62}\.[A-Za-z_][A-Za-z0-9_$]{0,62}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- what each kind takes ----------------------------------------------------------------------


class FolderConfig(_Strict):
    path: str = Field(min_length=2, max_length=1024, description="An absolute directory.")

    @field_validator("path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        parts = value.split("/")
        if not value.startswith("/") or ".." in parts or "\x00" in value:
            raise ValueError("give an absolute directory without '..'")
        return "/" + "/".join(p for p in parts if p)


class S3Config(_Strict):
    bucket: str = Field(description="The bucket's name.")
    prefix: str = Field("", max_length=1024, description="Only keys under it; '' the bucket.")
    endpoint_url: str | None = Field(
        None, max_length=1024, description="An S3-compatible endpoint; null: AWS."
    )
    region: str = Field("us-east-1", pattern=r"^[a-z0-9-]{1,32}$")

    @field_validator("bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not BUCKET_RE.match(value):
            raise ValueError("a bucket name has 3-63 lowercase letters, digits, '.' or '-'")
        return value

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        parts = [p for p in value.split("/") if p]
        if any(p in (".", "..") for p in parts) or "\x00" in value:
            raise ValueError("no '.' or '..' parts in a prefix")
        return "/".join(parts) + ("/" if parts else "")

    @field_validator("endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s?#@]+(/[^\s?#]*)?$", value):
            raise ValueError("an endpoint is an http(s) URL without user, query or fragment")
        return value


class PostgresConfig(_Strict):
    host: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9._:-]+$")
    port: int = Field(5432, ge=1, le=65535)
    dbname: str = Field(min_length=1, max_length=63)
    user: str = Field(min_length=1, max_length=63)
    sslmode: Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"] = "prefer"


class S3Credentials(_Strict):
    access_key_id: str = Field(min_length=1, max_length=256)
    secret_access_key: str = Field(min_length=1, max_length=256)
    session_token: str | None = Field(None, max_length=4096)


class PostgresCredentials(_Strict):
    password: str = Field(min_length=1, max_length=1024)


CONFIGS: dict[str, type[BaseModel]] = {
    "folder": FolderConfig, "s3": S3Config, "postgres": PostgresConfig,
}  # fmt: skip
CREDENTIALS: dict[str, type[BaseModel] | None] = {
    "folder": None, "s3": S3Credentials, "postgres": PostgresCredentials,
}  # fmt: skip


# --- the catalog --------------------------------------------------------------------------------


def _tags(value: list[str]) -> list[str]:
    for tag in value:
        check_name(tag, "tag")
        if not 1 <= len(tag) <= 64:
            raise ValueError("a tag has 1-64 characters")
    return list(dict.fromkeys(value))


class SourceModel(BaseModel):
    name: str
    kind: Kind
    owner: str
    description: str
    tags: list[str]
    config: dict[str, Any] = Field(
        description="What is not secret (a folder's path: its owner and administrators only)."
    )
    has_credentials: bool
    access: CallerAccess = Field(
        description="Yours: owner (the owner or an administrator: manages it), write, read or"
        " none (ask for it: POST /sources/{name}/requests)."
    )
    created_at: datetime
    updated_at: datetime


class SourceList(BaseModel):
    sources: list[SourceModel]


class SourceCreate(_Strict):
    name: str = Field(pattern=NAME_RE.pattern, description="1-63 lowercase letters, digits, .-_")
    kind: Kind
    description: Text = Field("", max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=MAX_TAGS)
    owner: str | None = Field(
        None, pattern=NAME_RE.pattern, description="Default: you; only administrators name another."
    )
    config: dict[str, Any] = Field(description="The kind's settings (FolderConfig, S3Config, ...).")
    credentials: dict[str, Any] | None = Field(
        None, description="s3: access_key_id, secret_access_key; postgres: password. Kept"
        " encrypted; never answered.",
    )  # fmt: skip

    _check_tags = field_validator("tags")(_tags)


class SourceUpdate(_Strict):
    description: Text | None = Field(None, max_length=2000)
    tags: list[str] | None = Field(None, max_length=MAX_TAGS)
    config: dict[str, Any] | None = None
    credentials: dict[str, Any] | None = None

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _tags(value)


class GrantModel(BaseModel):
    principal: str = Field(description="`user:<name>` or `group:<name>`.")
    access: Access
    granted_by: str
    granted_at: datetime


class GrantList(BaseModel):
    grants: list[GrantModel]


class GrantRequest(_Strict):
    principal: str = Field(pattern=PRINCIPAL_RE, examples=["user:ana", "group:ml"])
    access: Access = "read"


class AccessRequestCreate(_Strict):
    reason: Text = Field("", max_length=2000)
    access: Access = "read"


class AccessRequestModel(BaseModel):
    id: int
    source: str
    user: str
    access: Access
    reason: str
    status: Literal["pending", "granted", "declined"]
    created_at: datetime
    decided_by: str
    decided_at: datetime | None


class AccessRequestList(BaseModel):
    requests: list[AccessRequestModel]


# --- reading ----------------------------------------------------------------------------------


class EntryModel(BaseModel):
    path: str
    kind: Literal["file", "dir", "schema", "table"]
    size: int | None = None
    modified: datetime | None = None
    rows: int | None = Field(None, description="A table's row count or the planner's estimate.")


class EntryList(BaseModel):
    entries: list[EntryModel]
    truncated: bool


class Column(BaseModel):
    name: str
    type: str


class PreviewModel(BaseModel):
    path: str
    format: Literal["csv", "parquet", "jsonl", "text", "image", "table", "binary"]
    columns: list[Column]
    rows: list[list[Any]]
    row_count: int | None = Field(description="Exact where cheap, else null.")
    truncated: bool
    text: str | None = None
    image: str | None = Field(None, description="A thumbnail: data:image/png;base64,...")
    size: int | None = None


class SignedURL(BaseModel):
    url: str
    expires_at: datetime
    size: int | None


class QueryRequest(_Strict):
    table: str | None = Field(None, pattern=TABLE_RE, description="`schema.table`.")
    sql: Text | None = Field(None, max_length=100_000, description="One read-only statement.")
    limit: int = Field(1000, ge=1, le=MAX_LIMIT)


class TableModel(BaseModel):
    columns: list[Column]
    rows: list[list[Any]]
    row_count: int = Field(description="The rows answered.")
    truncated: bool = Field(description="There were more than `limit`.")


class Written(BaseModel):
    path: str
    size: int


# --- the audit --------------------------------------------------------------------------------


class AuditEntryModel(BaseModel):
    at: datetime
    user: str
    action: str
    object: str
    bytes: int | None
    rows: int | None
    allowed: bool
    reason: str
    origin: str


class UserUsage(BaseModel):
    user: str
    reads: int
    bytes: int
    rows: int
    refused: int


class ObjectUsage(BaseModel):
    object: str
    reads: int
    bytes: int
    rows: int


class AuditReport(BaseModel):
    source: str
    entries: list[AuditEntryModel] = Field(description="Newest first, at most 1,000.")
    by_user: list[UserUsage]
    by_object: list[ObjectUsage]


class SnapshotRequest(_Strict):
    source: str = Field(pattern=NAME_RE.pattern)
    prefix: str | None = Field(None, max_length=1024, description="Files under it ('' all).")
    table: str | None = Field(None, pattern=TABLE_RE)
    sql: Text | None = Field(None, max_length=100_000)
    limit: int = Field(MAX_LIMIT, ge=1, le=MAX_LIMIT)
    message: Text = Field("", max_length=2000)
