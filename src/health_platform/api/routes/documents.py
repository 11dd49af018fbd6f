"""Medical documents and images: streamed upload (never held in memory), list, download,
soft delete. The type comes from the bytes; the client's Content-Type is ignored."""

from __future__ import annotations

import errno
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from health_platform.api import documents, examples
from health_platform.api.audit import Audit
from health_platform.api.data import documents as stored_documents
from health_platform.api.data.documents import RESOURCE
from health_platform.api.data.pages import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from health_platform.api.deps import DbSession, PatientCaller, ServicesDep
from health_platform.api.errors import ApiError
from health_platform.api.models import Document
from health_platform.api.ownership import owned
from health_platform.api.storage import ObjectWriter
from health_platform.contract import ApiSettings

router = APIRouter(prefix="/api/documents", tags=["documents"])


class DocumentView(BaseModel):
    model_config = examples.example(examples.DOCUMENT)

    id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    created_at: datetime

    @classmethod
    def of(cls, row: Any) -> DocumentView:
        """From a Document, or a row of the data layer's list."""
        return cls(
            id=str(row.id),
            filename=row.filename,
            content_type=row.content_type,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            created_at=row.created_at,
        )


class DocumentPage(BaseModel):
    model_config = examples.example(
        {"items": [examples.DOCUMENT], "total": 1, "limit": 50, "offset": 0}
    )

    items: list[DocumentView]
    total: int
    limit: int
    offset: int


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"Documents may be at most {limit // (1024 * 1024)} MB.")


# Storage errors that are the folder's state, not a bug: answered 507, as RFC 4918 has it.
STORAGE_FULL = {errno.ENOSPC, errno.EDQUOT}
STORAGE_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}


def _unstorable(error: OSError) -> ApiError | None:
    """507 for a full or read-only storage folder (None: another fault, a bug's 500)."""
    if error.errno in STORAGE_FULL:
        why = "the storage is full"
    elif error.errno in STORAGE_READ_ONLY:
        why = "the storage is read-only"
    else:
        return None
    return ApiError(
        507,
        "insufficient_storage",
        f"Documents cannot be stored right now ({why}); try again later.",
        headers={"Retry-After": "60"},
    )


async def _receive(
    request: Request, writer_for: WriterFactory, settings: ApiSettings
) -> tuple[str, int, str]:
    """Stream the body into storage (kept to a minimum pace by api/request_body.py); return
    (content type, size, sha256). On any failure nothing of it stays in storage."""
    limit = settings.max_upload_bytes
    digest = hashlib.sha256()
    size = 0
    head = b""
    writer: ObjectWriter | None = None
    content_type = ""
    try:
        async for chunk in request.stream():
            if not chunk:
                continue
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            digest.update(chunk)
            if writer is None:
                head += chunk
                if len(head) < documents.SNIFF_BYTES:
                    continue
                content_type = _accepted(head)
                writer = await run_in_threadpool(writer_for, content_type)
                chunk, head = head, b""
            await run_in_threadpool(writer.write, chunk)
        if writer is None:  # the whole body was shorter than the sniffing window
            if size == 0:
                raise ApiError(422, "empty_upload", "The upload is empty.")
            content_type = _accepted(head)
            writer = await run_in_threadpool(writer_for, content_type)
            await run_in_threadpool(writer.write, head)
        await run_in_threadpool(writer.commit)
    except ClientDisconnect:
        await _discard(writer)
        # No answer reaches a client that left; the status says so in the request's log line.
        raise ApiError(499, "client_closed", "The client left before the upload ended.") from None
    except OSError as error:
        await _discard(writer)
        unstorable = _unstorable(error)
        if unstorable is None:
            raise
        raise unstorable from error
    except ApiError:
        await _discard(writer)
        raise
    return content_type, size, digest.hexdigest()


async def _discard(writer: ObjectWriter | None) -> None:
    if writer is not None:
        await run_in_threadpool(writer.abort)


def _accepted(head: bytes) -> str:
    kind = documents.sniff(head)
    if kind is None:
        raise ApiError(415, "unsupported_type", "Only PDF, PNG, JPEG and DICOM files are accepted.")
    return kind


class WriterFactory:
    def __init__(self, deps: ServicesDep, key: str) -> None:
        self.deps, self.key = deps, key

    def __call__(self, content_type: str) -> ObjectWriter:
        return self.deps.storage.writer(self.key, content_type)


@router.post(
    "",
    status_code=201,
    response_model=DocumentView,
    summary="Upload a document: the raw file as the request body",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload(
    request: Request,
    caller: PatientCaller,
    deps: ServicesDep,
    filename: Annotated[str, Query(min_length=1, max_length=255)],
) -> DocumentView:
    limit = deps.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)  # refused before a byte is read
    document_id = uuid.uuid4()
    key = f"documents/{caller.user_id}/{document_id}"
    content_type, size, sha256 = await _receive(request, WriterFactory(deps, key), deps.settings)

    row = Document(
        id=document_id,
        user_id=caller.user_id,
        filename=documents.safe_filename(filename),
        content_type=content_type,
        size_bytes=size,
        sha256=sha256,
        storage_key=key,
    )
    await stored_documents.add(deps.database, Audit.of(deps.audit_trail, caller), row)
    return DocumentView.of(row)


class UploadLimits(BaseModel):
    model_config = examples.example(
        {"max_bytes": 104857600, "accepted_types": list(documents.ACCEPTED)}
    )

    max_bytes: int
    accepted_types: list[str]


@router.get(
    "/limits",
    response_model=UploadLimits,
    summary="What an upload may be: its largest size and the accepted types",
)
async def limits(_: PatientCaller, deps: ServicesDep) -> UploadLimits:
    # So a client can refuse a file before sending it, with this deployment's own limit.
    return UploadLimits(
        max_bytes=deps.settings.max_upload_bytes, accepted_types=list(documents.ACCEPTED)
    )


@router.get("", response_model=DocumentPage, summary="List one's documents (newest first)")
async def list_documents(
    caller: PatientCaller,
    deps: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DocumentPage:
    page = await stored_documents.page(deps.database, caller.user_id, limit, offset)
    items = [DocumentView.of(r) for r in page.rows]
    audit = Audit.of(deps.audit_trail, caller)
    await audit.read("document.list", RESOURCE, detail={"count": len(items)})
    return DocumentPage(items=items, total=page.total, limit=limit, offset=offset)


async def _read_own(
    db: DbSession, deps: ServicesDep, caller: PatientCaller, document_id: uuid.UUID, action: str
) -> Document:
    """The caller's document, its read recorded as `action` before anything of it leaves
    (anyone else's: 404, and the attempt recorded)."""
    audit = Audit.of(deps.audit_trail, caller)
    row = await owned(db, audit, Document, document_id, action=action, resource="document")
    await audit.read(action, "document", document_id)
    return row


@router.get("/{document_id}", response_model=DocumentView, summary="A document's details")
async def read(
    document_id: uuid.UUID, caller: PatientCaller, db: DbSession, deps: ServicesDep
) -> DocumentView:
    return DocumentView.of(await _read_own(db, deps, caller, document_id, "document.read"))


@router.get(
    "/{document_id}/content",
    summary="Download a document's bytes",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The bytes as uploaded, with the type found at upload",
            "content": {
                kind: {"schema": {"type": "string", "format": "binary"}}
                for kind in documents.ACCEPTED
            },
        }
    },
)
async def download(
    document_id: uuid.UUID, caller: PatientCaller, db: DbSession, deps: ServicesDep
) -> StreamingResponse:
    row = await _read_own(db, deps, caller, document_id, "document.download")
    return StreamingResponse(
        deps.storage.read(row.storage_key),
        media_type=row.content_type,
        headers={
            "Content-Length": str(row.size_bytes),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.delete("/{document_id}", status_code=204, summary="Delete a document (kept in history)")
async def delete(
    document_id: uuid.UUID, caller: PatientCaller, db: DbSession, deps: ServicesDep
) -> Response:
    audit = Audit.of(deps.audit_trail, caller)
    row = await owned(
        db, audit, Document, document_id, action="document.delete", resource="document"
    )
    row.deleted_at = datetime.now(UTC)
    await audit.change(db, "document.delete", "document", document_id)
    return Response(status_code=204)
