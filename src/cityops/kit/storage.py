"""Blob storage for attachments: one small interface, a local and an S3-compatible adapter."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol

from cityops.config import Settings
from cityops.errors import FieldProblem, Invalid, NotFound

CHUNK = 64 * 1024
_SAFE_KEY = re.compile(r"^[A-Za-z0-9._\-/]+$")


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int
    sha256: str
    content_type: str


class BlobStorage(Protocol):
    """Where attachment bytes live. Keys are relative, slash-separated, validated."""

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> StoredBlob: ...
    def open(self, key: str) -> Iterator[bytes]: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def url(self, key: str, expires_seconds: int) -> str | None: ...


def check_key(key: str) -> str:
    """`key` if it is a safe relative key; Invalid otherwise (no traversal, no absolute path)."""
    parts = key.split("/")
    if (
        not key
        or not _SAFE_KEY.match(key)
        or key.startswith("/")
        or any(p in ("", ".", "..") for p in parts)
    ):
        raise Invalid(f"bad storage key {key!r}", errors=[FieldProblem("key", "unsafe key")])
    return key


def _read_all(data: bytes | BinaryIO) -> bytes:
    return data if isinstance(data, bytes) else data.read()


def new_key(prefix: str, filename: str) -> str:
    """A unique key under `prefix/YYYY/MM/` keeping the file's (lower-cased) extension."""
    suffix = PurePosixPath(filename).suffix.lower()
    if not re.fullmatch(r"\.[a-z0-9]{1,8}", suffix):
        suffix = ""
    now = datetime.now(UTC)
    return check_key(f"{prefix.strip('/')}/{now:%Y/%m}/{uuid.uuid4().hex}{suffix}")


class LocalStorage:
    """Files under a root directory, written atomically and durably."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> StoredBlob:
        body = _read_all(data)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, fsync, rename, fsync the directory: a crash leaves
        # either no file or the whole file under the key, never half of one.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return StoredBlob(key, len(body), hashlib.sha256(body).hexdigest(), content_type)

    def open(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise NotFound(f"no stored file {key}")

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as f:
                while block := f.read(CHUNK):
                    yield block

        return chunks()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def url(self, key: str, expires_seconds: int) -> str | None:
        return None  # the API streams local files itself


class S3Storage:
    """Any S3-compatible object store (MinIO, Ceph, cloud object storage) through boto3."""

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
    ) -> None:
        import boto3

        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
        )

    def ensure_bucket(self) -> None:
        existing = {b["Name"] for b in self.client.list_buckets().get("Buckets", [])}
        if self.bucket not in existing:
            self.client.create_bucket(Bucket=self.bucket)

    def put(self, key: str, data: bytes | BinaryIO, content_type: str) -> StoredBlob:
        body = _read_all(data)
        digest = hashlib.sha256(body).hexdigest()
        self.client.put_object(
            Bucket=self.bucket, Key=check_key(key), Body=body, ContentType=content_type,
            Metadata={"sha256": digest},
        )  # fmt: skip
        return StoredBlob(key, len(body), digest, content_type)

    def open(self, key: str) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            raise NotFound(f"no stored file {key}") from exc
        body = obj["Body"]

        def chunks() -> Iterator[bytes]:
            try:
                while block := body.read(CHUNK):
                    yield block
            finally:
                body.close()

        return chunks()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError:
            return False
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=check_key(key))

    def url(self, key: str, expires_seconds: int) -> str | None:
        return str(
            self.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": check_key(key)},
                ExpiresIn=expires_seconds,
            )
        )


def _local(settings: Settings) -> BlobStorage:
    return LocalStorage(settings.storage_dir)


def _s3(settings: Settings) -> BlobStorage:
    return S3Storage(
        settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key,
    )


BACKENDS: dict[str, Callable[[Settings], BlobStorage]] = {"local": _local, "s3": _s3}


def make_storage(settings: Settings) -> BlobStorage:
    """The storage adapter the settings name."""
    return BACKENDS[settings.storage_backend](settings)
