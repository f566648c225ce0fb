"""Importing contacts from a CSV file: read, check every row, then add the good ones.

Reading never writes: `read_csv` returns the good rows and each bad row with its
reason, for the preview. `import_rows` then adds the good rows in bulk; a
person already in the teacher's list (same address, any case) is not added
again: their empty phone and company are filled in and the file's tags added.
"""

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from crm import services
from crm.models import Contact, Tag

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
LIMITS = {"email": 254, "name": 200, "phone": 40, "company": 200}
TAG_MAX = 40
TAGS_PER_ROW = 10
# Headers other platforms use, folded to ours.
ALIASES = {
    "email": "email",
    "e-mail": "email",
    "email address": "email",
    "mail": "email",
    "name": "name",
    "full name": "name",
    "first name": "first_name",
    "firstname": "first_name",
    "given name": "first_name",
    "last name": "last_name",
    "lastname": "last_name",
    "surname": "last_name",
    "family name": "last_name",
    "phone": "phone",
    "phone number": "phone",
    "telephone": "phone",
    "mobile": "phone",
    "company": "company",
    "organisation": "company",
    "organization": "company",
    "tags": "tags",
    "tag": "tags",
    "labels": "tags",
}


class ImportFileError(ValueError):
    """The file as a whole can't be read (not CSV, no email column, too big)."""


@dataclass(frozen=True)
class Row:
    line: int
    email: str
    name: str = ""
    phone: str = ""
    company: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class BadRow:
    line: int
    email: str
    reason: str


@dataclass
class Reading:
    good: list[Row] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


@dataclass(frozen=True)
class Summary:
    created: int
    matched: int
    skipped: int


def decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportFileError(f"The file is over {MAX_BYTES // (1024 * 1024)} MB: split it.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("The file isn't text: save it as CSV (UTF-8) and try again.")


def read_csv(text: str) -> Reading:
    """Check every row of a CSV file with a header line; raise ImportFileError if unreadable."""
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as error:
        raise ImportFileError("The file is empty.") from error
    columns = [ALIASES.get(h.strip().lower().replace("_", " ")) for h in header]
    if "email" not in columns:
        raise ImportFileError(
            "The first line must name the columns, one of them “email” "
            "(others we read: name, first name, last name, phone, company, tags)."
        )
    reading = Reading()
    seen: dict[str, int] = {}
    try:
        for number, cells in enumerate(reader, start=2):
            if number - 1 > MAX_ROWS:
                raise ImportFileError(f"The file has over {MAX_ROWS:,} rows: split it.")
            if not any(c.strip() for c in cells):
                continue
            values: dict[str, str] = {}
            for name, cell in zip(columns, cells, strict=False):
                if name and not values.get(name):
                    values[name] = " ".join(cell.split())
            _check(number, values, seen, reading)
    except csv.Error as error:
        raise ImportFileError(f"The file isn't valid CSV: {error}.") from error
    return reading


def _check(number: int, values: dict[str, str], seen: dict[str, int], reading: Reading) -> None:
    email = values.get("email", "").lower()
    name = values.get("name") or f"{values.get('first_name', '')} {values.get('last_name', '')}"
    values["name"] = name.strip()

    def bad(reason: str) -> None:
        reading.bad.append(BadRow(number, email, reason))

    if not email:
        return bad("No email address")
    for key, limit in LIMITS.items():
        if len(values.get(key, "")) > limit:
            return bad(f"The {key} is too long (over {limit} characters)")
    try:
        validate_email(email)
    except ValidationError:
        return bad("Not a valid email address")
    tags = tuple(dict.fromkeys(t.strip() for t in _split_tags(values.get("tags", "")) if t.strip()))
    if any(len(t) > TAG_MAX for t in tags):
        return bad(f"A tag is too long (over {TAG_MAX} characters)")
    if len(tags) > TAGS_PER_ROW:
        return bad(f"Too many tags (over {TAGS_PER_ROW})")
    if email in seen:
        return bad(f"The same address as line {seen[email]}")
    seen[email] = number
    reading.good.append(
        Row(
            line=number,
            email=email,
            name=values["name"],
            phone=values.get("phone", ""),
            company=values.get("company", ""),
            tags=tags,
        )
    )


def _split_tags(value: str) -> list[str]:
    for separator in ("|", ";"):
        if separator in value:
            return value.split(separator)
    return value.split(",")


@transaction.atomic
def import_rows(*, teacher: Any, rows: list[Row]) -> Summary:
    """Add `rows` to `teacher`'s contacts without adding anyone twice; tag them as the file says."""
    emails = [row.email for row in rows]
    existing: dict[str, Contact] = {}
    for start in range(0, len(emails), 2000):
        chunk = emails[start : start + 2000]
        for contact in Contact.objects.filter(teacher=teacher, email__in=chunk):
            existing[contact.email] = contact
    now = timezone.now()
    new = [
        Contact(
            teacher=teacher,
            email=row.email,
            name=row.name,
            phone=row.phone,
            company=row.company,
            imported=True,
            first_seen=now,
        )
        for row in rows
        if row.email not in existing
    ]
    Contact.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    filled: list[Contact] = []
    for row in rows:
        known = existing.get(row.email)
        if known is None:
            continue
        before = (known.phone, known.company, known.name)
        known.phone = known.phone or row.phone
        known.company = known.company or row.company
        known.name = known.name or row.name
        if (known.phone, known.company, known.name) != before:
            filled.append(known)
    Contact.objects.bulk_update(filled, ["phone", "company", "name"], batch_size=2000)
    _tag(teacher, rows)
    # Someone already a student, registrant or lead keeps that status.
    services.sync_people(teacher.pk, emails=[c.email for c in new])
    return Summary(created=len(new), matched=len(rows) - len(new), skipped=0)


def _tag(teacher: Any, rows: list[Row]) -> None:
    wanted = {t.lower(): t for row in rows for t in row.tags}
    if not wanted:
        return
    tags = {t.name.lower(): t for t in Tag.objects.filter(teacher=teacher)}
    missing = [Tag(teacher=teacher, name=name) for key, name in wanted.items() if key not in tags]
    Tag.objects.bulk_create(missing, ignore_conflicts=True)
    tags = {t.name.lower(): t for t in Tag.objects.filter(teacher=teacher)}
    ids: dict[str, int] = {}
    emails = [row.email for row in rows if row.tags]
    for start in range(0, len(emails), 2000):
        chunk = emails[start : start + 2000]
        ids.update(
            Contact.objects.filter(teacher=teacher, email__in=chunk).values_list("email", "pk")
        )
    through = Contact.tags.through
    links = [
        through(contact_id=ids[row.email], tag_id=tags[t.lower()].pk)
        for row in rows
        for t in row.tags
        if row.email in ids and t.lower() in tags
    ]
    through.objects.bulk_create(links, ignore_conflicts=True, batch_size=2000)
