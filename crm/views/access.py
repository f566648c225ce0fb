"""Who may see a contact: only the teacher whose list it is; everyone else gets 404."""

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404

from crm.models import Contact, ContactNote


def teacher_only(user: Any) -> None:
    if not user.is_teacher:
        raise Http404


def get_contact_for_teacher(user: Any, contact_id: int) -> Contact:
    teacher_only(user)
    return get_object_or_404(Contact, pk=contact_id, teacher_id=user.pk)


def get_note_for_teacher(user: Any, contact_id: int, note_id: int) -> ContactNote:
    teacher_only(user)
    return get_object_or_404(
        ContactNote.objects.select_related("contact"),
        pk=note_id,
        contact_id=contact_id,
        contact__teacher_id=user.pk,
    )
