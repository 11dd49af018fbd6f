"""The S3 storage backend against moto: multipart streaming, SSE-KMS, byte-identical reads."""

from __future__ import annotations

import os

import boto3
import pytest

from health_platform.api.storage import S3_PART, S3Storage


@pytest.mark.usefixtures("aws")
def test_a_large_object_streams_in_parts_and_reads_back_identical() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="uploads")
    key_id = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
    storage = S3Storage("uploads", key_id, client=s3)
    storage.check()
    data = os.urandom(S3_PART * 2 + 12345)
    writer = storage.writer("documents/u/1", "application/pdf")
    for start in range(0, len(data), 64 * 1024):
        writer.write(data[start : start + 64 * 1024])
    assert len(writer.parts) == 2  # type: ignore[attr-defined]  # flushed while streaming
    writer.commit()
    assert b"".join(storage.read("documents/u/1")) == data
    head = s3.head_object(Bucket="uploads", Key="documents/u/1")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["ContentType"] == "application/pdf"


@pytest.mark.usefixtures("aws")
def test_an_aborted_upload_leaves_nothing() -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="uploads")
    storage = S3Storage("uploads", None, client=s3)
    writer = storage.writer("documents/u/2", "image/png")
    writer.write(b"\x89PNG")
    writer.abort()
    assert s3.list_objects_v2(Bucket="uploads").get("KeyCount", 0) == 0
    assert not s3.list_multipart_uploads(Bucket="uploads").get("Uploads")
