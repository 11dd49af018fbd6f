"""Where documents live: one interface, two implementations. S3 (SSE-KMS with the
configured key) on AWS; a folder on the local machine. Writers take chunks, so no upload is
ever held in memory whole."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

CHUNK = 64 * 1024
S3_PART = 8 * 1024 * 1024  # S3 needs parts of 5 MiB or more (but the last)


class ObjectWriter(Protocol):
    def write(self, chunk: bytes) -> None: ...
    def commit(self) -> None: ...
    def abort(self) -> None: ...


class Storage(Protocol):
    def writer(self, key: str, content_type: str) -> ObjectWriter: ...
    def read(self, key: str) -> Iterator[bytes]: ...
    def delete(self, key: str) -> None: ...
    def check(self) -> None: ...


class _FileWriter:
    def __init__(self, final: Path) -> None:
        self.final = final
        self.partial = final.with_name(final.name + ".partial")
        final.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.partial.open("wb")

    def write(self, chunk: bytes) -> None:
        self.handle.write(chunk)

    def commit(self) -> None:
        self.handle.flush()
        os.fsync(self.handle.fileno())  # acknowledged means on disk
        self.handle.close()
        self.partial.replace(self.final)

    def abort(self) -> None:
        # Closing flushes what is buffered, which fails again on a full disk: the partial
        # file goes all the same.
        with suppress(OSError):
            self.handle.close()
        self.partial.unlink(missing_ok=True)


class FilesystemStorage:
    def __init__(self, root: str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError("storage key escapes the storage folder")
        return path

    def writer(self, key: str, content_type: str) -> ObjectWriter:
        return _FileWriter(self._path(key))

    def read(self, key: str) -> Iterator[bytes]:
        with self._path(key).open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        probe = self.root / ".ready"
        probe.write_bytes(b"ok")
        probe.unlink()


class _S3Writer:
    def __init__(self, client: Any, bucket: str, key: str, extra: dict[str, str]) -> None:
        self.client, self.bucket, self.key = client, bucket, key
        self.upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
        self.buffer = bytearray()
        self.parts: list[dict[str, Any]] = []

    def _flush(self) -> None:
        number = len(self.parts) + 1
        response = self.client.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=bytes(self.buffer),
        )
        self.parts.append({"PartNumber": number, "ETag": response["ETag"]})
        self.buffer.clear()

    def write(self, chunk: bytes) -> None:
        self.buffer.extend(chunk)
        if len(self.buffer) >= S3_PART:
            self._flush()

    def commit(self) -> None:
        if self.buffer or not self.parts:
            self._flush()
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )

    def abort(self) -> None:
        self.client.abort_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
        )


class S3Storage:
    def __init__(self, bucket: str, kms_key_id: str | None, client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client, self.bucket = client, bucket
        self.extra = (
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id} if kms_key_id else {}
        )

    def writer(self, key: str, content_type: str) -> ObjectWriter:
        return _S3Writer(self.client, self.bucket, key, {**self.extra, "ContentType": content_type})

    def read(self, key: str) -> Iterator[bytes]:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        yield from body.iter_chunks(CHUNK)

    def delete(self, key: str) -> None:
        # The bucket is versioned: the object's earlier versions expire on the bucket's
        # lifecycle (infra/data/retention.py HEALTH_DATA), which the deletion notice states.
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)
