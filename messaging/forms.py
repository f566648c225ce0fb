from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import User
from core import parsing
from messaging import services


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Zero or more files from one input."""

    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if not data:
            return []
        items = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(item, initial) for item in items]


class MessageForm(forms.Form):
    body = forms.CharField(
        label="Message",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Write a message…"}),
        help_text="Markdown works: **bold**, _italic_, `code`, lists and links.",
    )
    attachments = MultipleFileField(label="Attach files", required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        files = cleaned.get("attachments") or []
        if len(files) > services.MAX_ATTACHMENTS:
            self.add_error(
                "attachments", f"Attach at most {services.MAX_ATTACHMENTS} files to one message."
            )
        try:
            cleaned["body"] = services.clean_body(cleaned.get("body", ""), has_files=bool(files))
        except ValidationError as error:
            self.add_error("body", error)
        return cleaned


class EditMessageForm(forms.Form):
    body = forms.CharField(
        label="Message",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Markdown works. People see that the message was edited.",
    )

    def __init__(self, *args: Any, has_files: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_files = has_files

    def clean_body(self) -> str:
        return services.clean_body(self.cleaned_data.get("body", ""), has_files=self.has_files)


class StudentsField(forms.ModelMultipleChoiceField):
    def clean(self, value: Any) -> Any:
        # Django looks the chosen ids up with `IN (...)`, which fails on ids no column holds.
        for raw in value or ():
            if parsing.parse_int(raw) is None:
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": raw},
                )
        return super().clean(value)

    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.email


class GroupForm(forms.Form):
    title = forms.CharField(
        label="Group name",
        max_length=120,
        required=False,
        help_text="Without one, the group is named after its people.",
    )
    students = StudentsField(
        label="Students",
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one student."},
    )

    def __init__(self, *args: Any, students: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["students"]
        assert isinstance(field, StudentsField)
        field.queryset = students
