"""The AI actions each course page offers (`courses.ai`'s hook), by place and viewer.

Only what the viewer may do is offered: a course's teacher gets the drafts,
a student of a course whose teacher switched the assistant on gets the
assistant and "Explain this". Whether they consented is asked on the action's
own page, which says how to turn AI on.
"""

from typing import Any

from django.urls import reverse

from courses.ai import AiLink
from courses.models import Course, CourseItem, Enrollment, ItemKind, Submission

# Kinds of item a student can ask to have explained: the ones with content of their own.
EXPLAINABLE = (ItemKind.MATERIAL, ItemKind.ASSIGNMENT, ItemKind.ANNOUNCEMENT, ItemKind.SESSION)


def for_place(place: str, obj: Any, viewer: Any) -> list[AiLink]:
    if not getattr(viewer, "is_authenticated", False):
        return []
    if place == "course_teaching":
        return _teaching(obj, viewer)
    if place == "submission":
        return _grading(obj, viewer)
    if place == "course_learning":
        return _learning(obj, viewer)
    if place == "item":
        return _item(obj, viewer)
    return []


def _teaching(course: Course, viewer: Any) -> list[AiLink]:
    if course.teacher_id != viewer.pk:
        return []
    return [
        AiLink("Draft an announcement", reverse("ai:draft_announcement", args=[course.slug])),
        AiLink("Suggest assignment questions", reverse("ai:draft_questions", args=[course.slug])),
        AiLink("Recap a session", reverse("ai:draft_recap", args=[course.slug])),
        AiLink("AI usage", reverse("ai:usage", args=[course.slug])),
    ]


def _grading(submission: Submission, viewer: Any) -> list[AiLink]:
    if submission.item.course.teacher_id != viewer.pk:
        return []
    return [AiLink("Draft feedback with AI", reverse("ai:draft_feedback", args=[submission.pk]))]


def _is_student(course: Course, viewer: Any) -> bool:
    return Enrollment.objects.filter(
        course=course, student_id=viewer.pk, status=Enrollment.Status.ACTIVE
    ).exists()


def _learning(course: Course, viewer: Any) -> list[AiLink]:
    if not course.ai_assistant:
        return []
    if course.teacher_id != viewer.pk and not _is_student(course, viewer):
        return []
    return [AiLink("Ask the course assistant", reverse("ai:assistant", args=[course.slug]))]


def _item(item: CourseItem, viewer: Any) -> list[AiLink]:
    course = item.course
    if not course.ai_assistant or item.kind not in EXPLAINABLE or not item.published:
        return []
    if course.teacher_id != viewer.pk and not _is_student(course, viewer):
        return []
    return [
        AiLink(
            "Explain this",
            reverse("ai:explain_item", args=[course.slug, item.pk]),
            hint="The course assistant explains this item in plain words.",
            method="post",
        )
    ]
