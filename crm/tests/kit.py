"""Helpers for the contacts tests: contacts made directly, in bulk."""

from typing import Any

from django.utils import timezone

from crm.models import Contact


def contacts(teacher: Any, count: int, *, start: int = 0, **fields: Any) -> list[Contact]:
    """Create `count` plain contacts for `teacher`, numbered from `start`."""
    now = timezone.now()
    rows = [
        Contact(
            teacher=teacher,
            email=f"person{n}@example.org",
            name=f"Person {n:05d}",
            first_seen=now,
            last_activity=now,
            **fields,
        )
        for n in range(start, start + count)
    ]
    return Contact.objects.bulk_create(rows, batch_size=2000)
