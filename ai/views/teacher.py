"""A teacher's AI drafts: an announcement, assignment questions, a session recap.

Every page works the same way. The teacher gives their inputs and asks; the
view checks that AI is on, that they consented and have units left, starts a
generation and shows its answer as a draft to edit. Nothing is saved until the
teacher presses a save button, and saving goes through the course's own forms
and services (the item editor's, the grading page's), so a draft is checked
and stored exactly like text typed by hand. Saving never depends on AI: a
draft that used the month's last unit can still be saved.

A refusal (no consent, no units) is logged and nothing is sent. Feedback on a
submission is drafted the same way (`ai.views.feedback`), and the checks,
asking and pages they share are in `ai.views.drafting`.

What the teacher typed is their own text: every input goes to the model inside
a delimited block, as data, the way course content does (`ai.prompts`), and is
kept with the generation's token in the cache for as long as the answer
(`generation.KEEP_SECONDS`), so the answer's page can offer a title and put the
inputs back after a failure.
"""

from dataclasses import replace

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ai import retrieval
from ai.forms import teacher as forms
from ai.models import AiRequest
from ai.views import drafting
from core.http import AuthedRequest
from courses import access
from courses.forms.items import AssignmentForm
from courses.models import Course, CourseItem, ItemKind, LatePolicy
from courses.services import items as item_services

Action = AiRequest.Action
# Room for the model's answer, by action.
ANNOUNCEMENT_MAX_TOKENS = 700
QUESTIONS_MAX_TOKENS = 1_500
RECAP_MAX_TOKENS = 1_000
# How much other course content an announcement may lean on, and how many items.
ANNOUNCEMENT_CONTEXT_TOKENS = 1_500
ANNOUNCEMENT_CONTEXT_ITEMS = 4
QUESTIONS_CONTEXT_TOKENS = 6_000

ANNOUNCEMENT_INSTRUCTION = (
    "Write a short announcement from the course's teacher to its students. Item 1 holds the "
    "teacher's points: say each of them in clear, friendly sentences and add nothing they don't "
    "say. Any further items are other course content, only for getting names, dates and details "
    "right. Write only the announcement's text in Markdown, in the language of the teacher's "
    "points, with no title line, no placeholders such as [name] and no citation numbers: it is "
    "published as it is."
)
QUESTIONS_INSTRUCTION = (
    "Write questions for an assignment of the course, drawn only from the course content "
    "given, each answerable from it. Vary what they ask: recall, explanation, application. "
    "Write only the numbered questions in Markdown, in the language of the course content, "
    "with no answers, no introduction and no citation numbers: they become the assignment's "
    "instructions."
)
RECAP_INSTRUCTION = (
    "Write a recap of a session of the course for its students, from the teacher's notes on "
    "it in item 1: what was covered, the key points to remember and anything students must do "
    "next. Address the students; a sentence or two, then a short list. Add nothing the notes "
    "don't say. Write only the recap in Markdown, in the language of the notes, with no title "
    "line and no citation numbers: it is published as an announcement."
)


# --- Draft an announcement -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def draft_announcement(request: AuthedRequest, slug: str) -> HttpResponse:
    """Draft an announcement from the teacher's points; save it only when they say so."""
    course = access.get_course_for_teacher(request.user, slug)
    template = "ai/teacher/announcement.html"
    page_url = reverse("ai:draft_announcement", args=[course.slug])
    answer = drafting.answer_page(request)
    inputs = drafting.recalled_inputs(request)
    base = {"course": course, "page_url": page_url, **answer}

    saved = drafting.save_announcement_step(request, course, template, base)
    if saved is not None:
        return saved

    refusal = drafting.refusal_for(request.user)
    if request.method == "POST":
        if refusal is not None:
            return drafting.refused(
                request,
                refusal,
                action=Action.ANNOUNCEMENT,
                course=course,
                template=template,
                context=base,
            )
        form = forms.AnnouncementRequestForm(request.POST)
        if not form.is_valid():
            return drafting.page(request, template, {**base, "form": form}, status=400)
        bullets = form.cleaned_data["bullets"]
        points = drafting.block(1, "The teacher's points", bullets, kind="teacher's points")
        related = retrieval.context_for(
            course=course,
            viewer=request.user,
            question=bullets,
            budget_tokens=ANNOUNCEMENT_CONTEXT_TOKENS,
            include_drafts=True,
        )[:ANNOUNCEMENT_CONTEXT_ITEMS]
        context = [points, *(replace(item, number=n) for n, item in enumerate(related, 2))]
        return drafting.ask(
            request,
            action=Action.ANNOUNCEMENT,
            course=course,
            instruction=ANNOUNCEMENT_INSTRUCTION,
            context=context,
            request_text="Write the announcement from the teacher's points in item 1.",
            max_tokens=ANNOUNCEMENT_MAX_TOKENS,
            page_url=page_url,
            inputs={"bullets": bullets, "title": form.title_suggestion()},
        )

    if answer["drafting"]:
        draft_form = drafting.announcement_draft_form(course, answer, inputs.get("title", ""))
        return drafting.page(request, template, {**base, "draft_form": draft_form})
    if refusal is not None:
        return drafting.page(request, template, {**base, "refusal": refusal})
    form = forms.AnnouncementRequestForm(initial={"bullets": inputs.get("bullets", "")})
    return drafting.page(request, template, {**base, "form": form})


# --- Suggest assignment questions ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def draft_questions(request: AuthedRequest, slug: str) -> HttpResponse:
    """Suggest questions from items the teacher chooses; save them as a draft assignment."""
    course = access.get_course_for_teacher(request.user, slug)
    template = "ai/teacher/questions.html"
    page_url = reverse("ai:draft_questions", args=[course.slug])
    answer = drafting.answer_page(request)
    inputs = drafting.recalled_inputs(request)
    base = {"course": course, "page_url": page_url, **answer}

    if request.method == "POST" and request.POST.get("step") == "save":
        # Unpublished, without a due date or points: the teacher sets those in the editor.
        draft_form = drafting.item_form(
            AssignmentForm, request, course, late_policy=LatePolicy.ACCEPT, published="false"
        )
        if draft_form.is_valid():
            item = item_services.add_item(
                course=course,
                author=request.user,
                kind=ItemKind.ASSIGNMENT,
                fields=draft_form.item_fields(),
            )
            messages.success(
                request,
                f"“{item.title}” is saved as a draft assignment. Set its due date and points, "
                "then publish it.",
            )
            return redirect("courses:teach_item_edit", slug=course.slug, item_id=item.pk)
        return drafting.page(request, template, {**base, "draft_form": draft_form}, status=400)

    refusal = drafting.refusal_for(request.user)
    if request.method == "POST":
        if refusal is not None:
            return drafting.refused(
                request,
                refusal,
                action=Action.QUESTIONS,
                course=course,
                template=template,
                context=base,
            )
        form = forms.QuestionsRequestForm(request.POST, course=course)
        if not form.is_valid():
            return drafting.page(request, template, {**base, "form": form}, status=400)
        chosen = form.cleaned_data["sources"]
        context = retrieval.chosen_context(
            course=course,
            viewer=request.user,
            item_ids=[item.pk for item in chosen],
            budget_tokens=QUESTIONS_CONTEXT_TOKENS,
            include_drafts=True,
        )
        count, focus = form.cleaned_data["count"], form.cleaned_data["focus"]
        request_text = f"Write {count} question{'s' if count > 1 else ''}."
        if focus:
            request_text += f"\nFocus: {focus}"
        return drafting.ask(
            request,
            action=Action.QUESTIONS,
            course=course,
            instruction=QUESTIONS_INSTRUCTION,
            context=context,
            request_text=request_text,
            max_tokens=QUESTIONS_MAX_TOKENS,
            page_url=page_url,
            inputs={
                "sources": [item.pk for item in chosen],
                "count": count,
                "focus": focus,
                "title": f"Questions: {chosen[0].title}"[:200],
            },
        )

    if answer["drafting"]:
        draft_form = AssignmentForm(
            initial={"title": inputs.get("title", ""), "body": answer["answer_text"]},
            course=course,
        )
        drafting.fillable(draft_form.fields["body"])
        return drafting.page(request, template, {**base, "draft_form": draft_form})
    if refusal is not None:
        return drafting.page(request, template, {**base, "refusal": refusal})
    initial = {name: inputs[name] for name in ("sources", "count", "focus") if name in inputs}
    form = forms.QuestionsRequestForm(initial=initial, course=course)
    return drafting.page(request, template, {**base, "form": form})


# --- Recap a session -------------------------------------------------------------------------


def _chosen_session(request: AuthedRequest, course: Course) -> CourseItem | None:
    """Return the session `?session=` names; a session of no course of theirs is a 404."""
    raw = request.GET.get("session", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise Http404
    try:
        return forms.sessions_of(course).get(pk=int(raw))
    except CourseItem.DoesNotExist:
        raise Http404 from None


@login_required
@require_http_methods(["GET", "POST"])
def draft_recap(request: AuthedRequest, slug: str) -> HttpResponse:
    """Summarise a session's notes into a recap; save it as an announcement when told to."""
    course = access.get_course_for_teacher(request.user, slug)
    template = "ai/teacher/recap.html"
    page_url = reverse("ai:draft_recap", args=[course.slug])
    answer = drafting.answer_page(request)
    inputs = drafting.recalled_inputs(request)
    base = {"course": course, "page_url": page_url, **answer}

    saved = drafting.save_announcement_step(request, course, template, base)
    if saved is not None:
        return saved

    refusal = drafting.refusal_for(request.user)
    if request.method == "POST":
        if refusal is not None:
            return drafting.refused(
                request,
                refusal,
                action=Action.RECAP,
                course=course,
                template=template,
                context=base,
            )
        form = forms.RecapRequestForm(request.POST, course=course)
        if not form.is_valid():
            session = form.cleaned_data.get("session")
            return drafting.page(
                request, template, {**base, "form": form, "session": session}, status=400
            )
        session = form.cleaned_data["session"]
        notes = form.cleaned_data["notes"]
        return drafting.ask(
            request,
            action=Action.RECAP,
            course=course,
            instruction=RECAP_INSTRUCTION,
            context=[
                drafting.block(
                    1,
                    f"Notes on the session “{session.title}”",
                    notes,
                    kind="session notes",
                    item=session,
                )
            ],
            request_text=f"Write the recap of the session “{session.title}” for the students.",
            max_tokens=RECAP_MAX_TOKENS,
            page_url=page_url,
            inputs={
                "session": session.pk,
                "notes": notes,
                "title": f"Recap: {session.title}"[:200],
            },
        )

    if answer["drafting"]:
        draft_form = drafting.announcement_draft_form(course, answer, inputs.get("title", ""))
        return drafting.page(request, template, {**base, "draft_form": draft_form})
    if refusal is not None:
        return drafting.page(request, template, {**base, "refusal": refusal})
    session = _chosen_session(request, course)
    if session is None and inputs.get("session"):
        session = forms.sessions_of(course).filter(pk=inputs["session"]).first()
    if session is None:
        sessions = list(forms.sessions_of(course).only("pk", "title", "starts_at", "published"))
        return drafting.page(request, template, {**base, "sessions": sessions})
    notes = inputs.get("notes") if inputs.get("session") == session.pk else session.body
    form = forms.RecapRequestForm(initial={"session": session.pk, "notes": notes}, course=course)
    return drafting.page(request, template, {**base, "form": form, "session": session})
