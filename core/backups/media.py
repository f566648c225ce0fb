"""The uploaded files of a backup: a tar of local storage, or a listing of the S3 bucket.

Files on S3 stay in the bucket (keep it versioned, so a deleted or overwritten
object can be brought back); the backup lists each object so a restore can say
whether every file the database names is still there, unchanged.
"""

import hashlib
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.core.files.storage import Storage

from core import storage as file_storage
from core.backups import BackupError

_CHUNK = 1024 * 1024


def storage_kind(storage: Storage) -> str:
    """Say how `storage`'s files are backed up: "local" (a tar) or "s3" (a listing)."""
    if file_storage.is_local(storage):
        return "local"
    if hasattr(storage, "bucket") and hasattr(storage, "bucket_name"):
        return "s3"
    raise BackupError(f"Backing up files kept on {type(storage).__name__} is not supported.")


def local_location(storage: Storage) -> Path:
    return Path(storage.location)  # type: ignore[attr-defined]


class _HashingReader:
    """Hand tarfile the file's bytes while hashing them, so each file is read once."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.digest.update(data)
        return data


def local_files(location: Path, *, skip: Path | None = None) -> Iterator[Path]:
    """Yield every regular file under `location`, in a stable order."""
    if not location.is_dir():
        return
    for path in sorted(location.rglob("*")):
        if path.is_file() and not path.is_symlink():
            if skip is not None and path.is_relative_to(skip):
                continue
            yield path


def write_tar(location: Path, tar_path: Path, *, skip: Path | None) -> list[dict[str, Any]]:
    """Write every file under `location` into `tar_path`; return each one's path, size and sha256.

    `skip` leaves out the backup being written, should it sit inside the media folder.
    """
    files = []
    with tarfile.open(tar_path, "w") as tar:
        for path in local_files(location, skip=skip):
            arcname = path.relative_to(location).as_posix()
            try:
                info = tar.gettarinfo(str(path), arcname)
                with path.open("rb") as file:
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    reader = _HashingReader(file)
                    tar.addfile(info, reader)
            except FileNotFoundError:
                continue  # deleted since the folder was listed: it is gone from the site too
            files.append({"path": arcname, "size": info.size, "sha256": reader.digest.hexdigest()})
    return files


def extract_tar(tar_path: Path, location: Path) -> None:
    location.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tar_path) as tar:
        # The "data" filter refuses absolute paths, `..`, links out of the folder and devices.
        tar.extractall(location, filter="data")


def check_local(location: Path, files: list[dict[str, Any]]) -> list[str]:
    """Compare the files under `location` with the manifest; return what differs."""
    problems = []
    for entry in files:
        path = location / entry["path"]
        if not path.is_file():
            problems.append(f"file {entry['path']} is missing")
        elif path.stat().st_size != entry["size"]:
            problems.append(
                f"file {entry['path']} has {path.stat().st_size} bytes, not {entry['size']}"
            )
        elif file_sha256(path) != entry["sha256"]:
            problems.append(f"file {entry['path']} has different content (sha256)")
    return problems


def list_bucket(storage: Storage) -> dict[str, Any]:
    """List the objects under the storage's prefix: key, size, etag and last change."""
    prefix = str(getattr(storage, "location", "") or "")
    prefix = f"{prefix.rstrip('/')}/" if prefix else ""
    bucket_name = storage.bucket_name  # type: ignore[attr-defined]
    try:
        objects = [
            {
                "key": item.key,
                "size": item.size,
                "etag": item.e_tag.strip('"'),
                "last_modified": item.last_modified.isoformat(),
            }
            for item in storage.bucket.objects.filter(Prefix=prefix)  # type: ignore[attr-defined]
        ]
    except Exception as error:  # any failure of the object store ends the backup with its reason
        raise BackupError(f"Can't list the bucket {bucket_name!r}: {error}") from error
    return {"bucket": bucket_name, "prefix": prefix, "objects": objects}


def check_bucket(storage: Storage, listing: dict[str, Any]) -> list[str]:
    """Compare the bucket as it is now with the listing in a backup; return what differs."""
    current = {item["key"]: item for item in list_bucket(storage)["objects"]}
    problems = []
    for item in listing["objects"]:
        now = current.get(item["key"])
        if now is None:
            problems.append(f"object {item['key']} is missing from the bucket")
        elif (now["size"], now["etag"]) != (item["size"], item["etag"]):
            problems.append(f"object {item['key']} has changed since the backup")
    return problems


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
