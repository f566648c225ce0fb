"""Stored files: every upload, whatever it is for, is one row here."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def random_key(instance: "StoredFile", filename: str) -> str:
    """Store every upload under an unguessable name; the original name is kept apart."""
    return f"uploads/{timezone.now():%Y/%m}/{secrets.token_urlsafe(24)}"


class StoredFile(models.Model):
    """An uploaded file: course material, a cover image, part of a submission, an attachment.

    Files are never served from a public path: the download view checks access
    and then redirects to a short-lived signed URL (or streams from local disk).
    """

    course = models.ForeignKey(
        "courses.Course", on_delete=models.CASCADE, related_name="files", null=True
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploaded_files"
    )
    submission = models.ForeignKey(
        "courses.Submission",
        on_delete=models.CASCADE,
        related_name="files",
        null=True,
        blank=True,
    )
    blob = models.FileField(upload_to=random_key, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["uploaded_by"])]

    def __str__(self) -> str:
        return self.original_name
