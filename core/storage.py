"""Where uploaded files live, and how a download reaches them.

Local disk by default; S3-compatible object storage (through django-storages and
boto3) when AWS_STORAGE_BUCKET_NAME is set. Objects are private either way:
local files are streamed by the download view after its access check, and S3
objects are reached through presigned URLs that expire after
FILE_URL_TTL_SECONDS. This is the only module that knows which one is in use.
"""

from botocore.exceptions import BotoCoreError
from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db.models.fields.files import FieldFile
from django.utils.http import content_disposition_header

# Object-storage failures worth another try later (a timeout, a dropped connection);
# callers add them to their own transient errors without knowing about boto3.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (BotoCoreError,)


def is_local(storage: Storage) -> bool:
    """Say whether files on `storage` are streamed by Lectern itself."""
    return isinstance(storage, FileSystemStorage)


def signed_url(blob: FieldFile, *, filename: str, content_type: str, inline: bool) -> str:
    """Return a presigned GET URL for a blob on object storage.

    The URL names the original file and its checked type, so the browser saves
    it under the right name whatever the random key is.
    """
    disposition = content_disposition_header(not inline, filename) or "attachment"
    parameters = {
        "ResponseContentDisposition": disposition,
        "ResponseContentType": content_type,
        "ResponseCacheControl": "private, max-age=0",
    }
    return blob.storage.url(  # type: ignore[call-arg]
        blob.name, parameters=parameters, expire=settings.FILE_URL_TTL_SECONDS
    )
