"""Small real files for upload tests, made in memory, and S3 storage against moto."""

import io
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase, override_settings
from moto import mock_aws
from PIL import Image

from files import quotas

# A complete one-page PDF (header, catalog, pages, page, xref, trailer).
PDF_BYTES = (
    b"%PDF-1.4\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n"
    b"xref\n0 4\n0000000000 65535 f \n0000000009 00000 n \n"
    b"0000000058 00000 n \n0000000115 00000 n \n"
    b"trailer << /Size 4 /Root 1 0 R >>\nstartxref\n186\n%%EOF\n"
)
# The first bytes of a 64-bit Linux executable.
ELF_BYTES = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(buffer, fmt)
    return buffer.getvalue()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zeros_odt(unpacked: int) -> bytes:
    """Return an .odt whose `mimetype` member really unpacks to `unpacked` zero bytes.

    Deflate packs zeros about a thousand to one: 64 MB make an upload under 100 KB.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("mimetype", "w") as member:
            for _ in range(unpacked // 2**20):
                member.write(bytes(2**20))
        archive.writestr("content.xml", b"<x/>")
    return buffer.getvalue()


def docx_bytes() -> bytes:
    return zip_bytes(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
            "word/document.xml": b'<?xml version="1.0"?><document/>',
        }
    )


@contextmanager
def quota(limit: int | None) -> Iterator[None]:
    """Give every teacher `limit` bytes of storage meanwhile (None: no limit), as plans do."""
    saved = list(quotas._providers)
    quotas.provide(lambda user: limit)
    try:
        yield
    finally:
        quotas._providers[:] = saved


def upload(
    name: str, data: bytes, content_type: str = "application/octet-stream"
) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def pdf(name: str = "notes.pdf") -> SimpleUploadedFile:
    return upload(name, PDF_BYTES, "application/pdf")


def png(name: str = "cover.png") -> SimpleUploadedFile:
    return upload(name, image_bytes("PNG"), "image/png")


class TemporaryStorageMixin:
    """Keep each test's uploads in a temporary folder removed afterwards."""

    def setUp(self) -> None:
        super().setUp()  # type: ignore[misc]
        folder = tempfile.TemporaryDirectory(prefix="lectern-media-")
        self.addCleanup(folder.cleanup)  # type: ignore[attr-defined]
        self.media_root = Path(folder.name)
        storages = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": folder.name},
            },
        }
        override = override_settings(STORAGES=storages, MEDIA_ROOT=folder.name)
        override.enable()
        self.addCleanup(override.disable)  # type: ignore[attr-defined]

    def stored_paths(self) -> list[Path]:
        return sorted(p for p in self.media_root.rglob("*") if p.is_file())


def use_s3(test: TestCase, bucket: str) -> Any:
    """Serve `test`'s default storage from a private moto S3 bucket; return a boto3 client.

    Everything is undone when the test ends.
    """
    aws = mock_aws()
    aws.start()
    test.addCleanup(aws.stop)
    s3 = boto3.client(
        "s3", region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    options = {
        "bucket_name": bucket,
        "access_key": "testing",
        "secret_key": "testing",
        "region_name": "eu-west-1",
        "signature_version": "s3v4",
        "addressing_style": "path",
        "default_acl": "private",
        "querystring_auth": True,
        "querystring_expire": 60,
    }
    storages = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    override = override_settings(STORAGES=storages, FILE_URL_TTL_SECONDS=60)
    override.enable()
    test.addCleanup(override.disable)
    return s3
