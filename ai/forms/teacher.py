"""What a teacher gives an AI draft to work from: points, chosen items, notes, rubric notes.

The drafts themselves are saved with the course's own forms (an announcement's,
an assignment's, the grading form), so an AI draft is checked exactly like one
typed by hand.
"""

from typing import Any

from django import forms
from django.db.models import F, QuerySet

from ai import retrieval
from courses.models import Course, CourseItem, ItemKind

BULLETS_MAX_CHARS = 4_000
FOCUS_MAX_CHARS = 300
NOTES_MAX_CHARS = 20_000
RUBRIC_MAX_CHARS = 5_000
MAX_QUESTIONS = 20
# Kinds whose text is written in Lectern and can be sent: a file's or a link's content
# lives elsewhere, and sending only its description would promise more than it gives.
QUESTION_SOURCE_KINDS = (
    ItemKind.MATERIAL,
    ItemKind.ASSIGNMENT,
    ItemKind.ANNOUNCEMENT,
    ItemKind.SESSION,
    ItemKind.NOTE,
)


def _too_long(what: str, limit: int, pronoun: str = "them") -> str:
    return f"{what} can be at most {limit:,} characters; shorten {pronoun} and try again."


class AnnouncementRequestForm(forms.Form):
    bullets = forms.CharField(
        label="Your points",
        max_length=BULLETS_MAX_CHARS,
        widget=forms.Textarea(
            attrs={
                "rows": 8,
                "placeholder": "- No class next Tuesday\n- Quiz 2 moves to the 14th\n"
                "- Bring your sketchbook",
            }
        ),
        help_text="A few short points, one a line. The draft says them in full sentences.",
        error_messages={
            "required": "Write at least one point for the announcement.",
            "max_length": _too_long("Your points", BULLETS_MAX_CHARS),
        },
    )

    def title_suggestion(self) -> str:
        """Return the first point, without its bullet, as a title to start from."""
        for line in self.cleaned_data["bullets"].splitlines():
            text = line.strip().lstrip("-*•\u2013\u00b7 ").strip()
            if text:
                return text[:120]
        return ""


class ItemChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        state = "" if obj.published else ", draft"
        return f"{obj.title} ({obj.get_kind_display()}{state})"


def question_sources(course: Course) -> QuerySet[CourseItem]:
    """Return the items of `course` questions can be drawn from, drafts included."""
    return (
        CourseItem.objects.filter(course=course, kind__in=QUESTION_SOURCE_KINDS)
        .exclude(kind=ItemKind.NOTE, is_private=True)
        .exclude(body="")
        .only("pk", "title", "kind", "published", "position")
        .order_by("position", "pk")
    )


class QuestionsRequestForm(forms.Form):
    sources = ItemChoiceField(
        label="Draw the questions from",
        queryset=CourseItem.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=f"Up to {retrieval.MAX_ITEMS} items. Only their text is sent; private notes, "
        "files and links aren't offered.",
        error_messages={
            "required": "Choose at least one item to draw the questions from.",
            "invalid_choice": "One of the items chosen isn't in this course any more; "
            "reload the page and choose again.",
            "invalid_pk_value": "Choose items from the list.",
        },
    )
    count = forms.IntegerField(
        label="How many questions",
        min_value=1,
        max_value=MAX_QUESTIONS,
        initial=5,
        widget=forms.NumberInput(attrs={"min": 1, "max": MAX_QUESTIONS, "inputmode": "numeric"}),
        error_messages={
            "required": f"Say how many questions you want, from 1 to {MAX_QUESTIONS}.",
            "invalid": f"Enter a whole number from 1 to {MAX_QUESTIONS}.",
            "min_value": f"Ask for 1 to {MAX_QUESTIONS} questions.",
            "max_value": f"Ask for 1 to {MAX_QUESTIONS} questions.",
        },
    )
    focus = forms.CharField(
        label="Focus",
        required=False,
        max_length=FOCUS_MAX_CHARS,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. short answers that check the key terms"}
        ),
        help_text="What the questions should practise, or their style.",
        error_messages={
            "max_length": _too_long("The focus", FOCUS_MAX_CHARS, "it"),
        },
    )

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["sources"]
        assert isinstance(field, ItemChoiceField)
        field.queryset = question_sources(course)

    def clean_sources(self) -> list[CourseItem]:
        items = list(self.cleaned_data["sources"])
        if len(items) > retrieval.MAX_ITEMS:
            raise forms.ValidationError(
                f"Choose at most {retrieval.MAX_ITEMS} items; you chose {len(items)}."
            )
        return items


def sessions_of(course: Course) -> QuerySet[CourseItem]:
    """Return the course's sessions, the latest first, drafts included."""
    return CourseItem.objects.filter(course=course, kind=ItemKind.SESSION).order_by(
        F("starts_at").desc(nulls_last=True), "-pk"
    )


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.title


class RecapRequestForm(forms.Form):
    session = SessionChoiceField(
        queryset=CourseItem.objects.none(),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Choose the session to recap.",
            "invalid_choice": "That session isn't in this course any more; choose another.",
        },
    )
    notes = forms.CharField(
        label="Notes from the session",
        max_length=NOTES_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Starts with the session's description; paste or add what was covered.",
        error_messages={
            "required": "Paste or write what was covered: the recap is made from these notes.",
            "max_length": _too_long("The notes", NOTES_MAX_CHARS),
        },
    )

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["session"]
        assert isinstance(field, SessionChoiceField)
        field.queryset = sessions_of(course)


class FeedbackRequestForm(forms.Form):
    rubric = forms.CharField(
        label="Your rubric notes",
        max_length=RUBRIC_MAX_CHARS,
        widget=forms.Textarea(
            attrs={
                "rows": 8,
                "placeholder": "- Clear thesis, good\n- Evidence thin in part 2\n"
                "- Suggest: cite the reading",
            }
        ),
        help_text="What you noticed and what you'd like them to work on. The draft turns it "
        "into feedback addressed to the student.",
        error_messages={
            "required": "Write a few rubric notes: the feedback is drafted from them.",
            "max_length": _too_long("Rubric notes", RUBRIC_MAX_CHARS),
        },
    )
