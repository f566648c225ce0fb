"""Forms for submitting work and grading it."""

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import MaxValueValidator

from courses.models import CourseItem
from courses.services.work import MAX_ANSWER_CHARS, MAX_FILES_PER_SUBMISSION

FEEDBACK_MAX_CHARS = 20_000
# As many points as an assignment can be worth; also bounds work graded without a maximum.
POINTS_MAX = 10_000


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that takes several files at once (and none)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items if item]


class SubmissionForm(forms.Form):
    text = forms.CharField(
        label="Your answer",
        required=False,
        max_length=MAX_ANSWER_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, _italic_, lists and links.",
    )
    attachments = MultipleFileField(
        label="Files",
        help_text=(
            f"Up to {MAX_FILES_PER_SUBMISSION} files: PDF, images, office documents, "
            "text, zip, MP3 or MP4. New files replace the ones you sent before."
        ),
    )

    def clean_attachments(self) -> list[UploadedFile]:
        uploads = self.cleaned_data["attachments"]
        if len(uploads) > MAX_FILES_PER_SUBMISSION:
            raise forms.ValidationError(f"Attach at most {MAX_FILES_PER_SUBMISSION} files.")
        return uploads


class GradeForm(forms.Form):
    points = forms.IntegerField(label="Points", min_value=0, max_value=POINTS_MAX)
    feedback = forms.CharField(
        label="Feedback",
        required=False,
        max_length=FEEDBACK_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown. The student sees it once you return the grade.",
    )

    def __init__(self, *args: Any, item: CourseItem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        points = self.fields["points"]
        if item.points is None:
            points.required = False
            points.help_text = "This assignment has no points; leave empty to give feedback only."
        else:
            assert isinstance(points, forms.IntegerField)
            points.max_value = item.points
            points.validators.append(MaxValueValidator(item.points))
            points.widget.attrs.update({"max": item.points, "min": 0})
            points.help_text = f"Out of {item.points}."
