"""Zip-based uploads are looked into, never unpacked: a zip bomb is refused at little cost."""

import io
import struct
import tracemalloc
import zipfile
import zlib

import pytest
from django.core.exceptions import ValidationError

from courses.tests.factories import CourseFactory
from files import services as files
from files.models import StoredFile
from files.tests import files_kit as kit
from tests.base import LecternTestCase

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
MB = 1024 * 1024


def crafted_zip(members: list[tuple[str, int]]) -> bytes:
    """Return a zip whose members declare the given unpacked sizes but hold almost nothing.

    Nothing here is ever unpacked by the check, so the data needn't match.
    """
    packed = zlib.compress(b"", wbits=-15)
    out = io.BytesIO()
    directory = io.BytesIO()
    for name, size in members:
        offset = out.tell()
        encoded = name.encode()
        # Deflated, no time or date, no checksum, packed size, unpacked size, name, no extra.
        header = (8, 0, 0, 0, len(packed), size, len(encoded), 0)
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, *header) + encoded + packed)
        directory.write(
            struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, *header, 0, 0, 0, 0, offset)
            + encoded
        )
    start = out.tell()
    listing = directory.getvalue()
    out.write(listing)
    count = len(members)
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(listing), start, 0))
    return out.getvalue()


class ZipBombTests(kit.TemporaryStorageMixin, LecternTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.course = CourseFactory.create(teacher=self.alice)

    def store(self, name: str, data: bytes) -> StoredFile:
        upload = kit.upload(name, data)
        return files.store_upload(
            uploaded_by=self.alice, course=self.course, upload=upload, purpose="material"
        )

    def assert_refused_cheaply(self, name: str, data: bytes) -> None:
        tracemalloc.start()
        try:
            with pytest.raises(ValidationError) as caught:
                self.store(name, data)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert caught.value.code == "zip_bomb"
        assert "would unpack to far more than its own size" in caught.value.messages[0]
        assert peak < 8 * MB, f"checking the upload took {peak / MB:.1f} MB"
        assert not StoredFile.objects.exists()
        assert self.stored_paths() == []

    def test_it_refuses_a_document_whose_member_unpacks_to_a_thousand_times_its_size(self) -> None:
        data = kit.zeros_odt(64 * MB)
        assert len(data) < MB
        self.assert_refused_cheaply("essay.odt", data)

    def test_it_refuses_members_that_declare_too_much_in_total(self) -> None:
        # Each member stays under the ratio check; together they claim over a gigabyte.
        members = [(f"part{n}.txt", MB) for n in range(files.ZIP_MAX_UNPACKED_BYTES // MB + 1)]
        self.assert_refused_cheaply("parts.zip", crafted_zip(members))

    def test_it_refuses_too_many_members(self) -> None:
        members = [(f"{n}.txt", 0) for n in range(files.ZIP_MAX_MEMBERS + 1)]
        self.assert_refused_cheaply("many.zip", crafted_zip(members))

    def test_it_refuses_a_member_list_too_long_to_read(self) -> None:
        name = "n" * 200
        count = files.ZIP_MAX_DIRECTORY_BYTES // (46 + 200) + 1
        self.assert_refused_cheaply("long.zip", crafted_zip([(name, 0)] * count))

    def test_it_reads_only_a_few_bytes_of_a_mimetype_that_lies_about_its_size(self) -> None:
        # The member says it is small; unpacked, it would be 64 MB of zeros then the type.
        honest = kit.zeros_odt(64 * MB)
        with zipfile.ZipFile(io.BytesIO(honest)) as archive:
            info = archive.getinfo("mimetype")
        liar = bytearray(honest)
        data_end = info.header_offset + 30 + len("mimetype") + info.compress_size
        listed_at = liar.find(b"PK\x01\x02", data_end)  # its entry leads the member list
        for size_at in (info.header_offset + 22, listed_at + 24):
            struct.pack_into("<L", liar, size_at, 64)
        tracemalloc.start()
        try:
            with pytest.raises(ValidationError):
                self.store("essay.odt", bytes(liar))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 4 * MB

    def test_real_documents_and_archives_still_pass(self) -> None:
        odt = kit.zip_bytes({"mimetype": ODT_MIMETYPE, "content.xml": b"<x/>" * 10_000})
        assert self.store("essay.odt", odt).content_type.endswith("opendocument.text")
        # Text packs well, far beyond what a bomb check may refuse in small files.
        notes = kit.zip_bytes({"notes.txt": b"la " * 300_000})
        assert self.store("notes.zip", notes).content_type == "application/zip"
