"""Adding, editing, publishing, deleting and ordering a course's items.

Every change touches the course's `updated_at`, which keys the cached
storefront page, so visitors see a new session as soon as it is published.
Ordering changes lock the course row first: two teachers' tabs reordering at
once are applied one after the other, never interleaved.
"""

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from courses import events
from courses.models import Course, CourseItem, ItemKind
from courses.services.courses import concrete_user
from files import services as files
from files.models import StoredFile


class OrderError(ValueError):
    """The order sent doesn't list exactly the course's items, each once."""


def _touch(course: Course) -> None:
    Course.objects.filter(pk=course.pk).update(updated_at=timezone.now())


def _lock(course: Course) -> None:
    Course.objects.select_for_update().filter(pk=course.pk).first()


def _mark_published(item: CourseItem, published: bool) -> list[str]:
    changed = ["published"]
    item.published = published
    if published and item.published_at is None:
        item.published_at = timezone.now()
        changed.append("published_at")
    return changed


@transaction.atomic
def add_item(
    *,
    course: Course,
    author: User,
    kind: str,
    fields: dict[str, Any],
    upload: UploadedFile | None = None,
) -> CourseItem:
    """Add an item of `kind` at the end of the course.

    Raise ValidationError when a file item's upload is refused; nothing is stored then.
    """
    _lock(course)
    last = CourseItem.objects.filter(course=course).aggregate(last=Max("position"))["last"]
    item = CourseItem(course=course, kind=kind, author=author, **fields)
    item.position = 0 if last is None else last + 1
    _mark_published(item, bool(fields.get("published")))
    if kind == ItemKind.FILE and upload is not None:
        item.file = files.store_upload(
            uploaded_by=concrete_user(author), course=course, upload=upload, purpose="material"
        )
    item.save()
    _touch(course)
    if item.published:
        events.emit(events.ItemPublished(item.pk, item.kind))
    return item


@transaction.atomic
def update_item(
    *, item: CourseItem, fields: dict[str, Any], upload: UploadedFile | None = None
) -> CourseItem:
    """Save an item's changed fields; a new upload replaces a file item's file."""
    was_published = item.published
    for name, value in fields.items():
        setattr(item, name, value)
    changed = list(fields)
    if "published" in fields:
        changed = list({*changed, *_mark_published(item, bool(fields["published"]))})
    old_file = None
    if item.kind == ItemKind.FILE and upload is not None:
        old_file = item.file
        item.file = files.store_upload(
            uploaded_by=concrete_user(item.course.teacher),
            course=item.course,
            upload=upload,
            purpose="material",
        )
        changed.append("file")
    item.save(update_fields=[*changed, "updated_at"])
    if old_file is not None:
        files.delete_files([old_file])
    _touch(item.course)
    if item.published and not was_published:
        events.emit(events.ItemPublished(item.pk, item.kind))
    return item


@transaction.atomic
def set_item_published(*, item: CourseItem, published: bool) -> CourseItem:
    """Show an item to enrolled students, or hide it again."""
    was_published = item.published
    changed = _mark_published(item, published)
    item.save(update_fields=[*changed, "updated_at"])
    _touch(item.course)
    if published and not was_published:
        events.emit(events.ItemPublished(item.pk, item.kind))
    return item


@transaction.atomic
def delete_item(*, item: CourseItem) -> None:
    """Delete an item with its submissions, attendance and its stored file."""
    course = item.course
    stored = item.file
    # The submissions' rows would go by cascade, leaving their files' contents in storage.
    files.delete_files(StoredFile.objects.filter(submission__item=item))
    item.delete()
    if stored is not None:
        files.delete_files([stored])
    _touch(course)


def _ordered_ids(course: Course) -> list[int]:
    return list(
        CourseItem.objects.filter(course=course)
        .order_by("position", "pk")
        .values_list("pk", flat=True)
    )


def _apply_order(course: Course, ids: list[int]) -> None:
    """Number the items 0..n-1 in the order of `ids`, writing only those that move."""
    current = dict(CourseItem.objects.filter(course=course).values_list("pk", "position"))
    moved = [
        CourseItem(pk=pk, position=position)
        for position, pk in enumerate(ids)
        if current.get(pk) != position
    ]
    CourseItem.objects.bulk_update(moved, ["position"], batch_size=500)
    _touch(course)


@transaction.atomic
def move_item(*, item: CourseItem, direction: str) -> bool:
    """Move an item one place "up" or "down". Return False when it is already at that end."""
    if direction not in ("up", "down"):
        raise ValueError(f"Unknown direction {direction!r}.")
    _lock(item.course)
    ids = _ordered_ids(item.course)
    index = ids.index(item.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ids):
        return False
    ids[index], ids[other] = ids[other], ids[index]
    _apply_order(item.course, ids)
    return True


@transaction.atomic
def reorder_items(*, course: Course, item_ids: list[int]) -> None:
    """Put the course's items in the order of `item_ids`.

    Raise OrderError unless `item_ids` names every item of the course exactly once.
    """
    _lock(course)
    ids = _ordered_ids(course)
    if len(item_ids) != len(set(item_ids)):
        raise OrderError("The new order lists an item twice.")
    if set(item_ids) != set(ids):
        raise OrderError(
            "The new order doesn't match this course's items. Reload the page and try again."
        )
    _apply_order(course, item_ids)
