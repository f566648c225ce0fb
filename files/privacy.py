"""What stored files hold about people: the files they uploaded.

Erasing an account removes the person's files from storage before their rows,
and before any other step of the erasure: other steps delete rows that files
cascade from (a submission takes its files with it), which would leave their
blobs in storage with no row to find them by.
"""

from collections.abc import Iterator
from typing import Any

from files import services
from files.models import StoredFile
from privacy.registry import Retention, Upload, register, uploads


def _erase_files(user: Any) -> int:
    return services.erase_files(StoredFile.objects.filter(uploaded_by=user))


def _uploads_of(user: Any) -> Iterator[Upload]:
    rows = StoredFile.objects.filter(uploaded_by=user).order_by("pk")
    for stored in rows.only("blob", "original_name", "size").iterator(chunk_size=500):
        yield Upload(key=stored.pk, name=stored.original_name, size=stored.size, blob=stored.blob)


register(
    StoredFile,
    category="Uploaded files",
    purpose="Files you upload: course materials, cover images and work you submit",
    owner="uploaded_by",
    dated_by="created_at",
    fields=["course_id", "original_name", "content_type", "size", "created_at"],
    eraser=_erase_files,
    erasure_note="Deleted from storage, the work you handed in included",
    erase_first=True,
    retention=Retention("While the course exists; deleting the course or your account removes it"),
)
uploads(_uploads_of)
