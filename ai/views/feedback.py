"""A teacher's AI draft of feedback on a submission, from their rubric notes.

The student's work is sent only when that student has turned on AI features
too (`drafting.refusal_for(..., author=)`); their name and files never are.
The draft is saved through the grading page's own form and service, as the
teacher's own feedback.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from ai import retrieval
from ai.forms import teacher as forms
from ai.models import AiRequest
from ai.views import drafting
from core.http import AuthedRequest
from courses import access
from courses.forms.work import GradeForm
from courses.models import Submission
from courses.services import work

Action = AiRequest.Action
# Room for the model's answer.
FEEDBACK_MAX_TOKENS = 1_000
# The most of an assignment's instructions and a student's work that feedback sends.
ASSIGNMENT_MAX_CHARS = 8_000
WORK_MAX_CHARS = 24_000
NO_ANSWER_TEXT = "(No written answer: only files were handed in, and files aren't sent.)"

FEEDBACK_INSTRUCTION = (
    "Draft the teacher's feedback to a student on their work. Item 1 is the assignment, item 2 "
    "the student's work and item 3 the teacher's rubric notes. Base the feedback on the rubric "
    "notes and point to specific parts of the work; be encouraging, specific and honest, and "
    'address the student as "you". Write only the feedback in Markdown, in the language of '
    "the student's work, with no grade, no placeholders such as [name] and no citation "
    "numbers: the teacher edits it and sends it as their own."
)


# --- Draft feedback --------------------------------------------------------------------------


def _feedback_context(submission: Submission, rubric: str) -> list[retrieval.ContextItem]:
    item = submission.item
    points = f"Points: out of {item.points}." if item.points is not None else "No points."
    instructions = drafting.clip(item.body, ASSIGNMENT_MAX_CHARS) or "(No instructions written.)"
    return [
        drafting.block(
            1,
            f"The assignment “{item.title}”",
            f"{instructions}\n\n{points}",
            kind="assignment",
            item=item,
        ),
        drafting.block(
            2,
            "The student's work",
            drafting.clip(submission.text, WORK_MAX_CHARS) or NO_ANSWER_TEXT,
            kind="student's work",
        ),
        drafting.block(3, "The teacher's rubric notes", rubric, kind="rubric notes"),
    ]


@login_required
@require_http_methods(["GET", "POST"])
def draft_feedback(request: AuthedRequest, submission_id: int) -> HttpResponse:
    """Draft feedback on a submission from the teacher's rubric notes; grade it when told to.

    The student's work is sent only when the student has turned on AI features.
    """
    submission = access.get_submission_for_teacher(request.user, submission_id)
    item = submission.item
    course = item.course
    template = "ai/teacher/feedback.html"
    page_url = reverse("ai:draft_feedback", args=[submission.pk])
    answer = drafting.answer_page(request)
    inputs = drafting.recalled_inputs(request)
    base = {
        "course": course,
        "item": item,
        "submission": submission,
        "page_url": page_url,
        **answer,
    }

    if request.method == "POST" and request.POST.get("step") == "save":
        draft_form = GradeForm(request.POST, item=item)
        drafting.fillable(draft_form.fields["feedback"])
        return_to_student = request.POST.get("action") == "return"
        if draft_form.is_valid():
            try:
                work.grade_submission(
                    submission=submission,
                    grader=request.user,
                    points=draft_form.cleaned_data["points"],
                    feedback=draft_form.cleaned_data["feedback"],
                    return_to_student=return_to_student,
                )
            except ValidationError as error:
                draft_form.add_error(None, error)
            else:
                name = submission.student.get_full_name() or submission.student.email
                if return_to_student:
                    messages.success(request, f"Feedback and grade returned to {name}.")
                else:
                    messages.success(
                        request, f"Feedback saved. {name} sees it once you return the grade."
                    )
                return redirect("courses:grading", course.slug)
        return drafting.page(request, template, {**base, "draft_form": draft_form}, status=400)

    refusal = drafting.refusal_for(request.user, author=submission.student)
    if request.method == "POST":
        if refusal is not None:
            return drafting.refused(
                request,
                refusal,
                action=Action.FEEDBACK,
                course=course,
                template=template,
                context=base,
            )
        form = forms.FeedbackRequestForm(request.POST)
        if not form.is_valid():
            return drafting.page(request, template, {**base, "form": form}, status=400)
        rubric = form.cleaned_data["rubric"]
        return drafting.ask(
            request,
            action=Action.FEEDBACK,
            course=course,
            instruction=FEEDBACK_INSTRUCTION,
            context=_feedback_context(submission, rubric),
            request_text="Draft the feedback to the student, following the rubric notes in item 3.",
            max_tokens=FEEDBACK_MAX_TOKENS,
            page_url=page_url,
            inputs={"rubric": rubric},
        )

    if answer["drafting"]:
        draft_form = GradeForm(
            initial={"points": submission.points_awarded, "feedback": answer["answer_text"]},
            item=item,
        )
        drafting.fillable(draft_form.fields["feedback"])
        return drafting.page(request, template, {**base, "draft_form": draft_form})
    if refusal is not None:
        return drafting.page(request, template, {**base, "refusal": refusal})
    form = forms.FeedbackRequestForm(initial={"rubric": inputs.get("rubric", "")})
    return drafting.page(request, template, {**base, "form": form})
