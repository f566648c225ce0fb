"""Stored files: upload checks, storage and deletion."""

from collections.abc import Iterable

from django.db import transaction

from courses.models import StoredFile


def delete_files(files: Iterable[StoredFile]) -> int:
    """Delete the rows now and their blobs from storage once the transaction commits."""
    rows = list(files)
    names = [f.blob.name for f in rows if f.blob]
    storages = {f.blob.name: f.blob.storage for f in rows if f.blob}
    StoredFile.objects.filter(pk__in=[f.pk for f in rows]).delete()

    def remove_blobs() -> None:
        for name in names:
            storages[name].delete(name)

    transaction.on_commit(remove_blobs)
    return len(rows)
