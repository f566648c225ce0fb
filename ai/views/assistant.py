"""The course assistant for students: questions about a course, and "Explain this" on an item.

Who may ask: a course's actively enrolled students and its teacher, who
previews what students get; anyone else gets a 404, as for the course itself.
The teacher switches the assistant on per course (`Course.ai_assistant`).

Before anything is sent, a request passes, in this order: AI is configured,
the assistant is on, the person consented to AI processing (else refused and
logged), the question is valid, and the course's teacher has units left this
month (else refused and logged). The answer is grounded only on what the asker
may see, which `ai.retrieval` decides, and its units count against the
course's teacher whoever asks.

A question that no course item matches is still sent: the system prompt makes
the model say plainly that the course doesn't cover it, in the language the
student asked in, which a fixed reply here could not do.
"""

import dataclasses
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from ai import client, generation, links, pages, prompts, retrieval, services
from ai.forms.assistant import QuestionForm
from ai.models import AiRequest
from core.http import AuthedRequest, safe_next_path
from courses import access
from courses.models import Course, CourseItem
from onboarding import selectors as onboarding

# Tokens of course content a question is grounded on, and the most an answer may take.
CONTEXT_TOKENS = 3000
ANSWER_TOKENS = 800
# "Explain this": most of the budget for the item itself, the rest for a few related items.
EXPLAIN_ITEM_TOKENS = 2200
EXPLAIN_RELATED_TOKENS = 800
EXPLAIN_RELATED_ITEMS = 3

EXPLAIN_INSTRUCTION = (
    "A student of the course asks you to explain item [1] in plain words. Explain what it "
    "says and means, simply and accurately, as a patient teacher would: define terms it "
    "uses, and say what the student is expected to do if it asks for something. Use the "
    "other items only where they help understand item [1], citing every item you use."
)

SWITCHED_OFF = "The teacher of this course hasn't switched on the course assistant."
NO_CONSENT = (
    "Turn on AI features first: nothing you ask is sent to the AI service without your consent."
)
OUT_OF_UNITS = (
    "The course's AI allowance for this month is used up, so the assistant can't answer "
    "until the first of next month."
)
NOT_EXPLAINABLE = "Only materials, assignments, announcements and sessions can be explained."


class _RefusalError(Exception):
    """The request can't be sent; `message` says why and `status` is the page's answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _unavailable(course: Course) -> str:
    """Return why the assistant can't be used in `course` at all, or ""."""
    if not client.configured():
        return client.NOT_CONFIGURED
    if not course.ai_assistant:
        return SWITCHED_OFF
    return ""


def _check_may_send(request: AuthedRequest, course: Course, action: str) -> None:
    """Raise `_RefusalError` when nothing may be sent now: AI off, assistant off or no consent.

    A refusal for want of consent is logged: it is a request the person made.
    """
    reason = _unavailable(course)
    if reason:
        raise _RefusalError(reason, 400 if reason == client.NOT_CONFIGURED else 403)
    if not services.has_consented(request.user):
        services.record(
            action=action,
            outcome=AiRequest.Outcome.REFUSED_CONSENT,
            user=request.user,
            teacher=course.teacher,
            course=course,
        )
        raise _RefusalError(NO_CONSENT, 403)


def _check_units(request: AuthedRequest, course: Course, action: str) -> None:
    """Raise `_RefusalError`, logged, when the course's teacher has no units left this month."""
    try:
        services.check_allowance(course.teacher)
    except services.OutOfUnitsError as error:
        services.record(
            action=action,
            outcome=AiRequest.Outcome.REFUSED_LIMIT,
            user=request.user,
            teacher=course.teacher,
            course=course,
        )
        # The teacher previewing is told their own figures; a student, what it means for them.
        message = error.message if course.teacher_id == request.user.pk else OUT_OF_UNITS
        raise _RefusalError(message, 403) from error


def _start(
    request: AuthedRequest,
    course: Course,
    action: str,
    messages_sent: list[dict[str, str]],
    context: list[retrieval.ContextItem],
    question: str = "",
) -> str:
    """Start the answer, counted against the course's teacher; return its token."""
    return generation.start(
        generation.Request(
            action=action,
            user_id=request.user.pk,
            teacher_id=course.teacher_id,
            course_id=course.pk,
            messages=messages_sent,
            max_tokens=ANSWER_TOKENS,
            sources=[
                generation.Source(item.number, item.item_id, item.title, item.url)
                for item in context
            ],
            question=question,
        )
    )


def _page_context(request: AuthedRequest, course: Course, page_url: str) -> dict[str, Any]:
    """What both pages show besides their own: availability, consent and the answer."""
    unavailable = _unavailable(course)
    return {
        "course": course,
        "is_preview": course.teacher_id == request.user.pk,
        "unavailable": unavailable,
        "switched_off": unavailable == SWITCHED_OFF,
        "consented": services.has_consented(request.user),
        "endpoint_host": client.endpoint_host(),
        "page_url": page_url,
        **pages.answer_context(request),
    }


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def assistant(request: AuthedRequest, slug: str) -> HttpResponse:
    """Show the course assistant; a posted question is answered from the course's content."""
    course, _ = access.get_course_for_member(request.user, slug)
    page_url = reverse("ai:assistant", args=[course.slug])
    form = QuestionForm(request.POST if request.method == "POST" else None)
    status = 200
    refusal = ""
    if request.method == "POST":
        action = AiRequest.Action.ASSISTANT
        try:
            _check_may_send(request, course, action)
            if not form.is_valid():
                raise _RefusalError("", 400)
            _check_units(request, course, action)
        except _RefusalError as refused:
            refusal, status = refused.message, refused.status
        else:
            question = form.cleaned_data["question"]
            grounding = retrieval.context_for(
                course=course,
                viewer=request.user,
                question=question,
                budget_tokens=CONTEXT_TOKENS,
            )
            token = _start(
                request,
                course,
                action,
                prompts.assistant_messages(
                    question, grounding, style=onboarding.ai_tone(request.user)
                ),
                grounding,
                question=question,
            )
            return redirect(pages.with_answer(page_url, token))
    context = {**_page_context(request, course, page_url), "form": form, "refusal": refusal}
    return render(request, "ai/assistant/assistant.html", context, status=status)


def _explainable_item(request: AuthedRequest, slug: str, item_id: int) -> CourseItem:
    """Return the item if the viewer may read it and it is one the assistant explains."""
    item, _ = access.get_item_for_member(request.user, slug, item_id)
    # Drafts and notes aren't offered, not even to the teacher previewing: the answer must be
    # what a student would get, and retrieval would leave a draft out of its own context.
    if not item.published or item.kind not in links.EXPLAINABLE:
        raise Http404(NOT_EXPLAINABLE)
    return item


def _explain_context(request: AuthedRequest, item: CourseItem) -> list[retrieval.ContextItem]:
    """Return the item as [1], then a few items of the course its title brings up."""
    course = item.course
    chosen = retrieval.chosen_context(
        course=course, viewer=request.user, item_ids=[item.pk], budget_tokens=EXPLAIN_ITEM_TOKENS
    )
    related = [
        found
        for found in retrieval.context_for(
            course=course,
            viewer=request.user,
            question=item.title,
            budget_tokens=EXPLAIN_RELATED_TOKENS,
        )
        if found.item_id != item.pk
    ][:EXPLAIN_RELATED_ITEMS]
    return [
        dataclasses.replace(found, number=number)
        for number, found in enumerate([*chosen, *related], start=1)
    ]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def explain_item(request: AuthedRequest, slug: str, item_id: int) -> HttpResponse:
    """Explain one item of the course in plain words, from the item and what relates to it."""
    item = _explainable_item(request, slug, item_id)
    course = item.course
    page_url = reverse("ai:explain_item", args=[course.slug, item.pk])
    status = 200
    refusal = ""
    if request.method == "POST":
        action = AiRequest.Action.EXPLAIN_ITEM
        try:
            _check_may_send(request, course, action)
            _check_units(request, course, action)
        except _RefusalError as refused:
            refusal, status = refused.message, refused.status
        else:
            grounding = _explain_context(request, item)
            sent = prompts.grounded_messages(
                EXPLAIN_INSTRUCTION,
                grounding,
                f"Explain “{item.title}” in plain words.",
                style=onboarding.ai_tone(request.user),
            )
            token = _start(request, course, action, sent, grounding)
            return redirect(pages.with_answer(page_url, token))
    context = {
        **_page_context(request, course, page_url),
        "item": item,
        "refusal": refusal,
        "answer_title": "Explanation",
    }
    return render(request, "ai/assistant/explain.html", context, status=status)


@login_required
@require_POST
def consent(request: AuthedRequest) -> HttpResponse:
    """Turn AI features on for the signed-in person, then go back where they came from."""
    if not client.configured():
        return render(
            request, "ai/assistant/unavailable.html", {"message": client.NOT_CONFIGURED}, status=400
        )
    services.give_consent(request.user)
    messages.success(
        request,
        f"AI features are on. You can turn them off at any time in Settings → Privacy; "
        f"until then, what you ask is sent to {client.endpoint_host()} to write the answer.",
    )
    return redirect(
        safe_next_path(request, request.POST.get("next")) or reverse("privacy:dashboard")
    )
