"""Attachment storage behaves the same on local disk and on an S3-compatible store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto import mock_aws

from cityops.errors import Invalid, NotFound
from cityops.kit.storage import BlobStorage, LocalStorage, S3Storage, check_key, new_key

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStorage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "blobs")
        return
    with mock_aws():
        s3 = S3Storage("cityops-test", region="us-east-1", access_key="k", secret_key="s")
        s3.ensure_bucket()
        yield s3


def test_round_trip(storage: BlobStorage) -> None:
    key = new_key("cases/7", "现场照片.JPG")
    assert key.startswith("cases/7/") and key.endswith(".jpg")
    stored = storage.put(key, PHOTO, "image/jpeg")
    assert stored.size == len(PHOTO)
    assert stored.sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert storage.exists(key)
    assert b"".join(storage.open(key)) == PHOTO
    storage.delete(key)
    assert not storage.exists(key)
    with pytest.raises(NotFound):
        b"".join(storage.open(key))


def test_links(storage: BlobStorage) -> None:
    key = new_key("cases/8", "a.png")
    storage.put(key, b"png", "image/png")
    url = storage.url(key, 60)
    if isinstance(storage, LocalStorage):
        assert url is None  # the API streams local files itself
    else:
        assert url is not None and "cityops-test" in url and "Signature" in url


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs", "a//b", "a/./b", "", "a\\b", "a b"])
def test_unsafe_keys_are_refused(bad: str) -> None:
    with pytest.raises(Invalid):
        check_key(bad)


def test_a_local_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("cases/1/x.jpg", PHOTO, "image/jpeg")
    assert [p.name for p in (tmp_path / "cases" / "1").iterdir()] == ["x.jpg"]
