"""Stored files: upload checks, storage and deletion."""

from collections.abc import Iterable

from django.db import transaction

from courses.models import StoredFile


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
