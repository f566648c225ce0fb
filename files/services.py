"""Stored files: upload checks, storage and deletion.

A file's type is judged by its content, never by its name or the browser's
claimed type: the first bytes are matched against known signatures, zip-based
documents are opened to see what they hold, images are decoded by Pillow, and
anything else must be valid UTF-8 text. The name's extension must then agree
with what the content is, so an executable or a script renamed `.pdf` is
refused. The blob is written before its row; when the row can't be written the
blob is removed again, so nothing is stored half-way.
"""

import codecs
import logging
import re
import struct
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import puremagic
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Sum
from django.template.defaultfilters import filesizeformat
from PIL import Image, UnidentifiedImageError

from files import quotas
from files.models import StoredFile

logger = logging.getLogger(__name__)

PURPOSES = ("cover", "material", "submission", "attachment")
# Course files and message attachments count against the uploader's storage; a
# student's submission doesn't.
QUOTA_PURPOSES = ("cover", "material", "attachment")
HEAD_BYTES = 8192


@dataclass(frozen=True)
class FileKind:
    label: str
    content_type: str
    extensions: tuple[str, ...]
    is_image: bool = False


KINDS: dict[str, FileKind] = {
    "pdf": FileKind("a PDF document", "application/pdf", (".pdf",)),
    "png": FileKind("a PNG image", "image/png", (".png",), True),
    "jpeg": FileKind("a JPEG image", "image/jpeg", (".jpg", ".jpeg", ".jfif", ".jpe"), True),
    "gif": FileKind("a GIF image", "image/gif", (".gif",), True),
    "webp": FileKind("a WebP image", "image/webp", (".webp",), True),
    "docx": FileKind(
        "a Word document",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (".docx",),
    ),
    "xlsx": FileKind(
        "an Excel spreadsheet",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (".xlsx",),
    ),
    "pptx": FileKind(
        "a PowerPoint presentation",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        (".pptx",),
    ),
    "odt": FileKind("an OpenDocument text", "application/vnd.oasis.opendocument.text", (".odt",)),
    "zip": FileKind("a zip archive", "application/zip", (".zip",)),
    "mp3": FileKind("an MP3 audio file", "audio/mpeg", (".mp3",)),
    "mp4": FileKind("an MP4 video", "video/mp4", (".mp4", ".m4v", ".m4a")),
    "txt": FileKind("plain text", "text/plain; charset=utf-8", (".txt", ".text", "")),
    "md": FileKind("Markdown text", "text/markdown; charset=utf-8", (".md", ".markdown")),
    "csv": FileKind("CSV text", "text/csv; charset=utf-8", (".csv",)),
}
TEXT_KINDS = ("txt", "md", "csv")
# What a browser may show in the page rather than save: raster images only. SVG is never
# accepted, and would be a document that runs script if it were.
INLINE_SAFE_TYPES = frozenset(kind.content_type for kind in KINDS.values() if kind.is_image)
# Every type an upload can be stored with, judged from its content.
SERVED_TYPES = frozenset(kind.content_type for kind in KINDS.values())
OOXML_PARTS = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
EXECUTABLE_SIGNATURES = (
    b"\x7fELF",  # Linux and most Unixes
    b"\xfe\xed\xfa\xce",  # Mach-O, both widths and byte orders
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal / Java class
    b"#!",  # scripts
    b"\x00asm",  # WebAssembly
)


def delete_files(files: Iterable[StoredFile]) -> int:
    """Delete the rows now and their blobs from storage once the transaction commits."""
    rows = list(files)
    blobs = [(f.blob.storage, f.blob.name) for f in rows if f.blob.name]
    StoredFile.objects.filter(pk__in=[f.pk for f in rows]).delete()

    def remove_blobs() -> None:
        for storage, name in blobs:
            storage.delete(name)

    transaction.on_commit(remove_blobs)
    return len(rows)


def erase_files(files: Iterable[StoredFile]) -> int:
    """Delete the blobs from storage first, then their rows; for erasing an account.

    `delete_files` waits for the commit before touching storage, so a worker
    killed in between leaves blobs no row knows about. Here a killed worker
    leaves rows whose blobs are gone, which a rerun deletes: removing a missing
    blob is not an error.
    """
    rows = list(files)
    for f in rows:
        if f.blob.name:
            f.blob.storage.delete(f.blob.name)
    StoredFile.objects.filter(pk__in=[f.pk for f in rows]).delete()
    return len(rows)


def store_upload(
    *, uploaded_by: Any, course: Any, upload: UploadedFile, purpose: str
) -> StoredFile:
    """Check an upload's size, quota and content, then store it under a random key.

    `course` is the course the file belongs to, if any (files never look
    inside it; the apps above use it to decide who may download the file).
    Raise ValidationError with a message for the person uploading when the file
    is empty, too large, over the teacher's quota or of a type not accepted for
    `purpose` ("cover", "material", "submission" or "attachment": a file sent
    with a message, accepted in the same types as materials).
    """
    if purpose not in PURPOSES:
        raise ValueError(f"Unknown upload purpose {purpose!r}.")
    name = sanitize_filename(upload.name or "")
    size = upload.size or 0
    if size <= 0:
        raise ValidationError(f"{name} is empty.", code="empty")
    if size > settings.FILE_MAX_BYTES:
        raise ValidationError(
            f"{name} is {filesizeformat(size)}; files can be at most "
            f"{filesizeformat(settings.FILE_MAX_BYTES)}.",
            code="too_large",
        )
    kind_key = detect_kind(upload, name)
    kind = KINDS[kind_key]
    if purpose == "cover" and not kind.is_image:
        raise ValidationError(
            f"{name} is {kind.label}; a cover must be a PNG, JPEG, GIF or WebP image.",
            code="not_image",
        )
    if not _extension(name):
        name = f"{name}{kind.extensions[0] or '.txt'}"

    with transaction.atomic():
        if purpose in QUOTA_PURPOSES:
            _check_quota(uploaded_by, size)
        stored = StoredFile(
            course=course,
            uploaded_by=uploaded_by,
            original_name=name,
            content_type=kind.content_type,
            size=size,
        )
        content = File(upload, name=name)
        # Storage backends label the object with the upload's content type: use the
        # one judged from the content, not the one the browser claimed.
        content.content_type = kind.content_type  # type: ignore[attr-defined]
        content.seek(0)
        stored.blob.save(name, content, save=False)
        try:
            with transaction.atomic():
                stored.save()
        except Exception:
            if stored.blob.name:
                stored.blob.storage.delete(stored.blob.name)
            raise
    return stored


def storage_used(user: Any) -> int:
    """Bytes of the files `user` uploaded that count against their storage (not submissions)."""
    total = StoredFile.objects.filter(uploaded_by=user, submission__isnull=True).aggregate(
        total=Sum("size")
    )["total"]
    return total or 0


def _check_quota(user: Any, size: int) -> None:
    """Refuse an upload that would take the teacher past their storage quota."""
    # Lock the uploader's row so two uploads at once can't both squeeze under the quota.
    type(user).objects.select_for_update().filter(pk=user.pk).first()
    quota = quotas.quota_for(user)
    if quota is None:
        return
    used = storage_used(user)
    if used + size > quota:
        raise ValidationError(
            f"This upload would take your files to {filesizeformat(used + size)}, over your "
            f"{filesizeformat(quota)} of storage. Delete files you no longer need first.",
            code="quota",
        )


def sanitize_filename(raw: str) -> str:
    """Return a display name without folders or control characters, at most 255 long."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"\s+", " ", name).strip(" .")
    if not name:
        return "file"
    if len(name) > 255:
        suffix = PurePosixPath(name).suffix[:16]
        name = name[: 255 - len(suffix)] + suffix
    return name


def detect_kind(upload: UploadedFile, name: str) -> str:
    """Return the key in KINDS of what the upload's content is, or raise ValidationError."""
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    if _is_executable(head):
        raise ValidationError(
            f"{name} is a program or a script; those can't be uploaded.", code="executable"
        )
    kind = _binary_kind(head, upload, name)
    if kind is None:
        kind = _text_kind(upload, name)
    if kind is None:
        raise ValidationError(
            f"{name} is not a type of file Lectern accepts. Upload a PDF, an image "
            "(PNG, JPEG, GIF, WebP), an office document (Word, Excel, PowerPoint, "
            "OpenDocument text), plain text, Markdown, CSV, a zip archive, MP3 or MP4.",
            code="type",
        )
    extension = _extension(name)
    if (
        extension
        and extension not in KINDS[kind].extensions
        and not (kind in TEXT_KINDS and extension in _text_extensions())
    ):
        raise ValidationError(
            f"{name} contains {KINDS[kind].label}, which doesn't match its name. "
            f"Rename it to end in {KINDS[kind].extensions[0] or '.txt'} and try again.",
            code="mismatch",
        )
    if KINDS[kind].is_image:
        _verify_image(upload, name)
    return kind


def _extension(name: str) -> str:
    """Return the name's extension in lower case, or "" when it has none that looks like one."""
    suffix = PurePosixPath(name).suffix.lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,10}", suffix) else ""


def _is_executable(head: bytes) -> bool:
    if head.startswith(EXECUTABLE_SIGNATURES):
        return True
    # A Windows program starts with "MZ" and a binary DOS header; text may start with "MZ" too.
    return head.startswith(b"MZ") and b"\x00" in head[:64]


def _text_extensions() -> set[str]:
    return {ext for key in TEXT_KINDS for ext in KINDS[key].extensions}


def _binary_kind(head: bytes, upload: UploadedFile, name: str) -> str | None:
    """Match the first bytes against the signatures of the binary types accepted."""
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(upload, name)
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:
        return None
    mimes = {m.mime_type for m in matches}
    for mime, key in (
        ("application/pdf", "pdf"),
        ("image/png", "png"),
        ("image/jpeg", "jpeg"),
        ("image/gif", "gif"),
        ("image/webp", "webp"),
        ("video/mp4", "mp4"),
    ):
        if mime in mimes:
            return key
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        # ID3-tagged MP3, or a bare MPEG audio frame header (11 sync bits).
        return "mp3"
    return None


# A zip-based upload is opened to see what it holds, never unpacked. These bound what a
# crafted archive (a "zip bomb") can cost the check, and whoever unpacks it later.
ZIP_MAX_DIRECTORY_BYTES = 2 * 1024 * 1024  # the member list, which zipfile reads whole
ZIP_MAX_MEMBERS = 10_000
ZIP_MAX_UNPACKED_BYTES = 1024 * 1024 * 1024  # declared, all members together
ZIP_MAX_RATIO = 200  # declared unpacked size per packed byte, for members over a megabyte
ZIP_END_RECORD = struct.Struct("<4s4H2LH")  # the end-of-central-directory record


def _zip_kind(upload: UploadedFile, name: str) -> str | None:
    """Tell office documents from plain zip archives by what the archive holds.

    Raise ValidationError for an archive whose member list or declared sizes
    are absurd; only the few bytes of an OpenDocument `mimetype` are ever read.
    """
    upload.seek(0)
    try:
        if _zip_directory_bytes(upload) > ZIP_MAX_DIRECTORY_BYTES:
            raise _zip_bomb(name)
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            if len(members) > ZIP_MAX_MEMBERS or _absurd_sizes(members):
                raise _zip_bomb(name)
            names = [m.filename for m in members]
            if "[Content_Types].xml" in names:
                for prefix, key in OOXML_PARTS.items():
                    if any(n.startswith(prefix) for n in names):
                        return key
                return None
            if "mimetype" in names:
                # A bounded read: the member may unpack to far more than it declares.
                with archive.open("mimetype") as member:
                    mimetype = member.read(100).strip()
                return "odt" if mimetype == b"application/vnd.oasis.opendocument.text" else None
            return "zip"
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, ValueError):
        # Damaged, encrypted, or packed in a way zipfile can't read (names included).
        return None
    finally:
        upload.seek(0)


def _zip_directory_bytes(upload: UploadedFile) -> int:
    """Return the size the archive's end record gives its member list (0 if there is none)."""
    size = upload.seek(0, 2)
    tail_size = min(size, ZIP_END_RECORD.size + 65_535)  # the record, then a comment
    upload.seek(size - tail_size)
    tail = upload.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < ZIP_END_RECORD.size:
        return 0
    return ZIP_END_RECORD.unpack_from(tail, at)[5]


def _absurd_sizes(members: list[zipfile.ZipInfo]) -> bool:
    if sum(m.file_size for m in members) > ZIP_MAX_UNPACKED_BYTES:
        return True
    return any(
        m.file_size > 1024 * 1024 and m.file_size > ZIP_MAX_RATIO * max(m.compress_size, 1)
        for m in members
    )


def _zip_bomb(name: str) -> ValidationError:
    return ValidationError(
        f"{name} is an archive that would unpack to far more than its own size, or holds "
        f"more than {ZIP_MAX_MEMBERS:,} files; it can't be uploaded. Upload the files "
        "inside it, or an archive of them made again with a standard tool.",
        code="zip_bomb",
    )


def _text_kind(upload: UploadedFile, name: str) -> str | None:
    """Return the text kind if the whole upload is UTF-8 without NUL bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    upload.seek(0)
    try:
        for chunk in upload.chunks():
            if b"\x00" in chunk:
                return None
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    finally:
        upload.seek(0)
    extension = _extension(name)
    for key in ("md", "csv"):
        if extension in KINDS[key].extensions:
            return key
    return "txt"


def _verify_image(upload: UploadedFile, name: str) -> None:
    """Decode the image's structure with Pillow; refuse broken files and pixel bombs."""
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise ValidationError(f"{name} is not a readable image.", code="bad_image") from None
    finally:
        upload.seek(0)
