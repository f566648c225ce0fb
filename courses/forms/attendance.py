"""The attendance sheet of one session: a status per actively enrolled student."""

from typing import Any

from django import forms

from courses.models import AttendanceStatus, Enrollment

FIELD_PREFIX = "s"


def field_name(student_id: int) -> str:
    return f"{FIELD_PREFIX}{student_id}"


class AttendanceForm(forms.Form):
    """One optional radio group per student; a student left blank stays unmarked.

    Only students passed in get a field, so a posted value for anyone else (not
    enrolled, or gone since the page was opened) is never read.
    """

    def __init__(
        self,
        *args: Any,
        enrollments: list[Enrollment],
        current: dict[int, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.enrollments = enrollments
        for enrollment in enrollments:
            student = enrollment.student
            self.fields[field_name(student.pk)] = forms.ChoiceField(
                label=str(student),
                choices=AttendanceStatus.choices,
                required=False,
                widget=forms.RadioSelect,
                initial=current.get(student.pk),
                error_messages={
                    "invalid_choice": "Choose present, late or absent.",
                },
            )

    def rows(self) -> list[tuple[Enrollment, forms.BoundField]]:
        return [(e, self[field_name(e.student.pk)]) for e in self.enrollments]

    def statuses(self) -> dict[int, str]:
        """Return the chosen status of each student who has one, by student id."""
        return {
            e.student.pk: self.cleaned_data[field_name(e.student.pk)]
            for e in self.enrollments
            if self.cleaned_data.get(field_name(e.student.pk))
        }
