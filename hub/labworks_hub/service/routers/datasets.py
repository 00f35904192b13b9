"""Versioned datasets over REST: push blobs and versions (manifests), list, read, share, delete.

Blobs are the files' contents by sha256, kept in the platform's one artifact store (keys under
`datasets/<owner>/<name>/blobs/`). Who may read or write what is decided in the store
(store/datasets.py), never here; this module moves bytes and translates HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.convertors import Convertor, register_url_convertor

from ..access import NotFound, Unavailable, Viewer
from ..auth import viewer
from ..errors import ErrorBody
from ..jobs.artifacts import ArtifactError, ArtifactStore
from ..sources import audit
from ..store import Store
from ..store import datasets as store
from ..store.datasets import FileEntry
from ..store.models import Dataset, DatasetVersion
from ..validation import Text


class Sha256Convertor(Convertor[str]):
    """Blob routes match only a sha256, so `.../blobs/missing` with another method is a 405."""

    regex = "[0-9a-f]{64}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("sha256", Sha256Convertor())
router = APIRouter(tags=["datasets"])
T = TypeVar("T")
MAX_ID = 2**31 - 1  # version numbers are INTEGER columns: a larger one names nothing
CHUNK = 1024 * 1024
SHA256 = r"^[0-9a-f]{64}$"
Owner = Path(min_length=1, max_length=255, description="The hub user who owns the dataset.")
Name = Path(pattern=store.NAME_RE.pattern, description="The dataset's name, e.g. iris.")
Sha256 = Path(pattern=SHA256, description="The blob's sha256 (64 lowercase hex digits).")
BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
TOO_LARGE: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "The blob is over the size limit."}
}


class VersionInfo(BaseModel):
    number: int = Field(description="1, 2, ... per dataset.")
    digest: str = Field(description="sha256 over the manifest sorted by path: `sha256:<hex>`.")
    size: int = Field(description="Total bytes of its files.")
    file_count: int
    message: str
    created_by: str
    created_at: datetime


class FileModel(BaseModel):
    path: str = Field(
        min_length=1, max_length=store.MAX_PATH_CHARS,
        description="Relative POSIX path in the dataset, e.g. `train/part-0.csv`.",
    )  # fmt: skip
    sha256: str = Field(pattern=SHA256, description="sha256 of the file's content.")
    size: int = Field(ge=0, le=2**62, description="The file's size in bytes.")


class VersionDetail(VersionInfo):
    ref: str = Field(description="`<owner>/<name>`.")
    files: list[FileModel] = Field(description="Sorted by path.")


class DatasetModel(BaseModel):
    ref: str = Field(description="`<owner>/<name>`.")
    owner: str
    name: str
    description: str
    visibility: str = Field(description="'private', 'group:<name>' or 'public'.")
    yours: bool = Field(description="You own it: you may push to, share and delete it.")
    latest_version: int | None = Field(description="null: no version yet.")
    created_at: datetime
    updated_at: datetime
    versions: list[VersionInfo] = Field(description="Newest first; empty in the list of datasets.")


class DatasetList(BaseModel):
    datasets: list[DatasetModel]


class MissingRequest(BaseModel):
    sha256: list[Annotated[str, Field(pattern=SHA256)]] = Field(max_length=store.MAX_FILES)


class MissingBlobs(BaseModel):
    missing: list[str] = Field(description="The blobs asked about that the dataset lacks.")


class Blob(BaseModel):
    sha256: str
    size: int


class VersionRequest(BaseModel):
    files: list[FileModel] = Field(min_length=1, max_length=store.MAX_FILES)
    message: Text = Field("", max_length=store.MAX_MESSAGE_CHARS, description="What changed.")
    description: Text | None = Field(
        None, max_length=store.MAX_DESCRIPTION_CHARS, description="Sets the dataset's."
    )


class VisibilityRequest(BaseModel):
    visibility: str = Field(
        max_length=300,
        description="'private' (you only), 'group:<name>' (members of one of your groups may"
        " read it) or 'public' (every user may).",
        examples=["group:ml"],
    )


def _artifacts(request: Request) -> ArtifactStore:
    """The platform's one artifact store (app.py builds it): all stored objects in one place."""
    return request.app.state.artifacts


async def _off_loop(work: Callable[..., T], *args: Any) -> T:
    """Run blocking `work(*args)` in a thread; storage that fails is Unavailable (503)."""
    try:
        return await asyncio.to_thread(work, *args)
    except ArtifactError as e:
        raise Unavailable(str(e)) from None


async def _in_store(request: Request, work: Callable[..., T], *args: Any) -> T:
    """Run `work(session, *args)` in a store transaction off the event loop."""
    db: Store = request.app.state.store
    return await db.run(work, *args)


def _version_info(v: DatasetVersion) -> VersionInfo:
    return VersionInfo(
        number=v.number, digest=v.digest, size=v.size, file_count=v.file_count,
        message=v.message, created_by=v.created_by, created_at=v.created_at,
    )  # fmt: skip


def version_detail(dataset: Dataset, v: DatasetVersion) -> VersionDetail:
    return VersionDetail(
        **_version_info(v).model_dump(),
        ref=f"{dataset.owner}/{dataset.name}",
        files=[FileModel(**f) for f in v.files],
    )


def _dataset(
    d: Dataset, who: Viewer, latest: int | None, versions: list[VersionInfo]
) -> DatasetModel:
    return DatasetModel(**store.describe(d, who, latest), versions=versions)


def _full(d: Dataset, who: Viewer) -> DatasetModel:
    versions = [_version_info(v) for v in d.versions]
    return _dataset(d, who, versions[0].number if versions else None, versions)


@router.get("/datasets", response_model=DatasetList)
async def list_datasets(
    request: Request,
    owner: str | None = Query(None, max_length=255, description="Only this user's datasets."),
    who: Viewer = Depends(viewer),
) -> DatasetList:
    """The datasets you can read (yours, your groups', public ones), most recently updated
    first."""

    def work(session) -> DatasetList:
        found = store.list_datasets(session, who, owner)
        latest = store.latest_numbers(session, [d.id for d in found])
        return DatasetList(datasets=[_dataset(d, who, latest.get(d.id), []) for d in found])

    return await _in_store(request, work)


@router.get("/datasets/{owner}/{name}", response_model=DatasetModel)
async def show_dataset(
    request: Request, owner: str = Owner, name: str = Name, who: Viewer = Depends(viewer)
) -> DatasetModel:
    """One dataset with its versions, newest first; 404 when you cannot read it."""

    def work(session) -> DatasetModel:
        return _full(store.get_dataset(session, who, owner, name), who)

    return await _in_store(request, work)


@router.get("/datasets/{owner}/{name}/versions/{version}", response_model=VersionDetail)
async def show_version(
    request: Request,
    owner: str = Owner,
    name: str = Name,
    version: str = Path(
        pattern=r"^(latest|[1-9][0-9]{0,9})$", description="A version number or `latest`."
    ),
    who: Viewer = Depends(viewer),
) -> VersionDetail:
    """One version with its files (sorted by path); 404 when there is no such version."""
    if version != "latest" and int(version) > MAX_ID:
        raise NotFound(f"dataset {owner}/{name} has no version {version}")

    def work(session) -> VersionDetail:
        v = store.get_version(session, who, owner, name, version)
        return version_detail(v.dataset, v)

    return await _in_store(request, work)


@router.post("/datasets/{owner}/{name}/blobs/missing", response_model=MissingBlobs)
async def missing_blobs(
    request: Request,
    body: MissingRequest,
    owner: str = Owner,
    name: str = Name,
    who: Viewer = Depends(viewer),
) -> MissingBlobs:
    """Which of these blobs the dataset does not hold yet (upload those). Owner only; the
    dataset need not exist yet."""
    store.check_owner(who, owner, name)
    held = await _off_loop(_artifacts(request).sizes, store.blob_prefix(owner, name))
    return MissingBlobs(missing=[s for s in dict.fromkeys(body.sha256) if s not in held])


@router.put(
    "/datasets/{owner}/{name}/blobs/{sha256:sha256}",
    response_model=Blob,
    status_code=201,
    responses={200: {"model": Blob, "description": "The dataset held it already."}, **TOO_LARGE},
    openapi_extra={"requestBody": {"required": True, "content": BINARY}},
)
async def put_blob(
    request: Request,
    response: Response,
    owner: str = Owner,
    name: str = Name,
    sha256: str = Sha256,
    who: Viewer = Depends(viewer),
) -> Blob:
    """Upload one file's content (the raw body), checked against its sha256. Owner only; 400
    `digest_mismatch`: the body has another sha256; 413: over the platform's blob size limit."""
    store.check_owner(who, owner, name)
    artifacts = _artifacts(request)
    key = f"{store.blob_prefix(owner, name)}/{sha256}"
    with tempfile.NamedTemporaryFile(prefix="lw-blob-") as spool:
        size = await _receive(request, spool, sha256)
        if await _off_loop(artifacts.exists, key):
            response.status_code = 200
        else:
            spool.flush()
            await _off_loop(artifacts.put_file, key, spool.name)
    return Blob(sha256=sha256, size=size)


async def _receive(request: Request, spool: IO[bytes], sha256: str) -> int:
    """Stream the body into `spool` while hashing it; its size, or 400 digest_mismatch. The
    request guard has limited it to ArtifactStore.max_blob_size (413)."""
    digest, size = hashlib.sha256(), 0
    async for chunk in request.stream():
        size += len(chunk)
        digest.update(chunk)
        spool.write(chunk)
    if digest.hexdigest() != sha256:
        raise store.DigestMismatch(
            f"the body's sha256 is {digest.hexdigest()}, not {sha256}: it changed on the way"
            " or the file changed while it was read; upload it again"
        )
    return size


@router.get(
    "/datasets/{owner}/{name}/blobs/{sha256:sha256}",
    response_class=StreamingResponse,
    responses={200: {"content": BINARY, "description": "The file's bytes."}},
)
async def get_blob(
    request: Request,
    owner: str = Owner,
    name: str = Name,
    sha256: str = Sha256,
    who: Viewer = Depends(viewer),
) -> StreamingResponse:
    """Download one file's content by its sha256: readers of the dataset, and only blobs some
    version of it lists. Each download is in the dataset's audit (`GET .../audit`)."""
    path = await _in_store(request, store.listed_blob, who, owner, name, sha256)
    key = f"{store.blob_prefix(owner, name)}/{sha256}"
    opened = await _off_loop(_artifacts(request).open, key)
    if opened is None:
        raise NotFound(f"the blob {sha256} of dataset {owner}/{name} is gone from storage")
    stream, size = opened
    await _in_store(
        request, lambda session: audit.record(
            session, source=audit.dataset_key(owner, name), user=who.name or "(service)",
            action="read", object=path, bytes=size,
            origin=audit.clean_origin(request.headers.get("x-labworks-origin")),
        ),
    )  # fmt: skip
    return StreamingResponse(
        _chunks(stream),
        media_type="application/octet-stream",
        headers={"Content-Length": str(size)},
    )


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """The file in CHUNK-sized pieces (Starlette iterates this in a thread), then closed."""
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk


@router.post(
    "/datasets/{owner}/{name}/versions",
    response_model=VersionDetail,
    status_code=201,
    responses={200: {"model": VersionDetail, "description": "The latest version already is it."}},
)
async def push_version(
    request: Request,
    response: Response,
    body: VersionRequest,
    owner: str = Owner,
    name: str = Name,
    who: Viewer = Depends(viewer),
) -> VersionDetail:
    """Add a version (a manifest of files whose blobs are uploaded), creating the dataset
    (private) on its first. 200 with the latest version when it has this manifest already.
    Owner only; 400 `missing_blobs`: upload those first."""
    store.check_owner(who, owner, name)
    held = await _off_loop(_artifacts(request).sizes, store.blob_prefix(owner, name))
    files = [FileEntry(path=f.path, sha256=f.sha256, size=f.size) for f in body.files]

    def work(session) -> tuple[VersionDetail, bool]:
        version, new = store.create_version(
            session, who, owner, name, files, held, message=body.message,
            description=body.description,
        )  # fmt: skip
        return version_detail(version.dataset, version), new

    detail, new = await _in_store(request, work)
    if not new:
        response.status_code = 200
    return detail


@router.put("/datasets/{owner}/{name}/visibility", response_model=DatasetModel)
async def set_visibility(
    request: Request,
    body: VisibilityRequest,
    owner: str = Owner,
    name: str = Name,
    who: Viewer = Depends(viewer),
) -> DatasetModel:
    """Who besides you may read the dataset: nobody, one of your groups, or every user.
    Owner only, and only your own groups (403); 400: not a visibility."""

    def work(session) -> DatasetModel:
        return _full(store.set_visibility(session, who, owner, name, body.visibility), who)

    return await _in_store(request, work)


@router.delete("/datasets/{owner}/{name}", status_code=204)
async def delete_dataset(
    request: Request, owner: str = Owner, name: str = Name, who: Viewer = Depends(viewer)
) -> None:
    """Remove the dataset, its versions and its files. Owner only."""
    await _in_store(request, store.delete_dataset, who, owner, name)
    await _off_loop(_artifacts(request).delete_prefix, store.dataset_prefix(owner, name))
