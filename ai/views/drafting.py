"""What every AI draft page of a teacher's shares: the checks, the asking, the page.

A teacher gives their inputs and asks; `refusal_for` says whether AI is on,
they consented and have units left (and, for feedback, whether the work's
author consented too); `ask` starts a generation and keeps the inputs with its
token in the cache for as long as the answer (`generation.KEEP_SECONDS`), so
the answer's page can offer a title and put the inputs back after a failure.
What the teacher typed is their own text: it goes to the model inside a
delimited block, as data, the way course content does (`ai.prompts`).
"""

from dataclasses import dataclass
from typing import Any, Literal

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from ai import client, generation, pages, prompts, retrieval, services
from ai.models import AiRequest
from core.http import AuthedRequest
from courses.forms.items import AnnouncementForm
from courses.models import Course, CourseItem, ItemKind
from courses.services import items as item_services
from onboarding import selectors as onboarding

Action = AiRequest.Action
# Room for the model's answer, by action.

INPUTS_KEY = "ai:teacher-inputs:{token}"


# --- Checks and refusals ---------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    """Why a draft can't be asked for now, and what the page offers instead."""

    kind: Literal["not_configured", "consent", "author", "limit"]
    message: str

    @property
    def outcome(self) -> str | None:
        """Return how the refusal is logged; None when nothing could have been sent."""
        if self.kind == "limit":
            return AiRequest.Outcome.REFUSED_LIMIT
        if self.kind in ("consent", "author"):
            return AiRequest.Outcome.REFUSED_CONSENT
        return None

    @property
    def status(self) -> int:
        return 503 if self.kind == "not_configured" else 403


def author_refusal(student: Any) -> Refusal:
    name = student.get_full_name() or student.email
    return Refusal(
        "author",
        f"{name} hasn't turned on AI features, so their work can't be sent to the AI service. "
        "You can still write feedback yourself on the grading page.",
    )


def refusal_for(teacher: Any, *, author: Any = None) -> Refusal | None:
    """Return why `teacher` can't ask for a draft now (about `author`'s work); None if they can."""
    if not client.configured():
        return Refusal("not_configured", client.NOT_CONFIGURED)
    try:
        services.require_consent(teacher)
    except services.NoConsentError as refused:
        return Refusal("consent", refused.message)
    if author is not None and not services.has_consented(author):
        return author_refusal(author)
    try:
        services.check_allowance(teacher)
    except services.OutOfUnitsError as refused:
        return Refusal("limit", refused.message)
    return None


def log_refusal(request: AuthedRequest, refusal: Refusal, *, action: str, course: Course) -> None:
    if refusal.outcome is not None:
        services.record(
            action=action,
            outcome=refusal.outcome,
            user=request.user,
            teacher=course.teacher,
            course=course,
        )


def refused(
    request: AuthedRequest,
    refusal: Refusal,
    *,
    action: str,
    course: Course,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """Log a refused request and show the page with the refusal, under its status."""
    log_refusal(request, refusal, action=action, course=course)
    return page(request, template, {**context, "refusal": refusal}, status=refusal.status)


# --- Asking, and what the answer's page remembers --------------------------------------------


def clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def block(
    number: int, title: str, text: str, *, kind: str, item: CourseItem | None = None
) -> retrieval.ContextItem:
    """Return one delimited block of the prompt; an item's block is logged and citable."""
    return retrieval.ContextItem(
        number=number,
        item_id=item.pk if item is not None else 0,
        title=title,
        kind=kind,
        url=reverse("courses:item", args=[item.course.slug, item.pk]) if item is not None else "",
        excerpt=text,
    )


def ask(
    request: AuthedRequest,
    *,
    action: str,
    course: Course,
    instruction: str,
    context: list[retrieval.ContextItem],
    request_text: str,
    max_tokens: int,
    page_url: str,
    inputs: dict[str, Any],
) -> HttpResponse:
    """Start the generation and send the teacher to the page that shows its answer."""
    token = generation.start(
        generation.Request(
            action=action,
            user_id=request.user.pk,
            teacher_id=course.teacher_id,
            course_id=course.pk,
            messages=prompts.grounded_messages(
                instruction, context, request_text, style=onboarding.ai_tone(request.user)
            ),
            max_tokens=max_tokens,
            sources=[
                generation.Source(block.number, block.item_id, block.title, block.url)
                for block in context
                if block.item_id
            ],
        )
    )
    cache.set(
        INPUTS_KEY.format(token=token),
        {"user_id": request.user.pk, **inputs},
        generation.KEEP_SECONDS,
    )
    return redirect(pages.with_answer(page_url, token))


def recalled_inputs(request: AuthedRequest) -> dict[str, Any]:
    """Return what the teacher typed for the answer on this page, if it is theirs."""
    token = request.GET.get("answer", "")
    if not token or len(token) > 64:
        return {}
    stored = cache.get(INPUTS_KEY.format(token=token))
    if not stored or stored.get("user_id") != request.user.pk:
        return {}
    return {name: value for name, value in stored.items() if name != "user_id"}


def answer_page(request: AuthedRequest) -> dict[str, Any]:
    """Return the answer's context, with `drafting` when it is (or will be) a draft to edit."""
    context = pages.answer_context(request)
    answer = context["answer"]
    context["drafting"] = answer is not None and answer.status != "failed"
    context["answer_text"] = answer.text if answer is not None and answer.status == "done" else ""
    context["answer_title"] = "What AI wrote"
    return context


def fillable(field: Any) -> None:
    # The answer's script fills this field with the finished draft unless the teacher typed in it.
    field.widget.attrs["data-ai-fill"] = ""


def allowance(teacher: Any) -> services.Allowance | None:
    return services.allowance_of(teacher) if client.configured() else None


def page(
    request: AuthedRequest,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        template,
        {"allowance": allowance(request.user), **context},
        status=status,
    )


def item_form(form_class: type[Any], request: AuthedRequest, course: Course, **extra: str) -> Any:
    """Return the course's own item form bound to the draft's title and text."""
    data = {
        "title": request.POST.get("title", ""),
        "body": request.POST.get("body", ""),
        **extra,
    }
    form = form_class(data, course=course)
    fillable(form.fields["body"])
    return form


def save_announcement(
    request: AuthedRequest, course: Course, form: AnnouncementForm
) -> HttpResponse:
    item = item_services.add_item(
        course=course, author=request.user, kind=ItemKind.ANNOUNCEMENT, fields=form.item_fields()
    )
    if item.published:
        messages.success(request, f"“{item.title}” is published: enrolled students can see it.")
    else:
        messages.success(request, f"“{item.title}” is saved as a draft announcement.")
    return redirect(reverse("courses:teach_course", args=[course.slug]) + f"#item-{item.pk}")


def save_announcement_step(
    request: AuthedRequest, course: Course, template: str, context: dict[str, Any]
) -> HttpResponse | None:
    """Handle an announcement draft's save buttons; None when the request is not that step.

    The draft is checked by the item editor's own form: saved (published or as a
    draft), or shown again with its errors.
    """
    if request.method != "POST" or request.POST.get("step") != "save":
        return None
    draft_form = item_form(AnnouncementForm, request, course, published=publishing(request))
    if draft_form.is_valid():
        return save_announcement(request, course, draft_form)
    return page(request, template, {**context, "draft_form": draft_form}, status=400)


def announcement_draft_form(course: Course, answer: dict[str, Any], title: str) -> AnnouncementForm:
    form = AnnouncementForm(initial={"title": title, "body": answer["answer_text"]}, course=course)
    fillable(form.fields["body"])
    return form


def publishing(request: AuthedRequest) -> str:
    return "true" if request.POST.get("publish") == "1" else "false"
