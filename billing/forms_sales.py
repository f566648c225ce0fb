"""The Sales page's filters: one of the teacher's courses, a status and a period."""

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, cast

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from billing import sales
from courses.models import Course

# Dates outside these can't hold a sale, and near the ends of the calendar a
# day's start in the teacher's time zone would not fit in a datetime.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)
_OUT_OF_RANGE = "Choose a date between 2000 and 2099."


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        validators=[
            MinValueValidator(EARLIEST, _OUT_OF_RANGE),
            MaxValueValidator(LATEST, _OUT_OF_RANGE),
        ],
        widget=forms.DateInput(
            attrs={"type": "date", "min": EARLIEST.isoformat(), "max": LATEST.isoformat()}
        ),
    )


class SalesFilterForm(forms.Form):
    """Read from the query string; a value that doesn't fit shows an error and narrows nothing."""

    course = forms.TypedChoiceField(
        label="Course",
        coerce=int,
        required=False,
        empty_value=None,
        error_messages={"invalid_choice": "Choose one of your courses."},
    )
    status = forms.ChoiceField(
        label="Status",
        required=False,
        choices=[("", "Any status"), *((status.value, status.label) for status in sales.SOLD)],
        error_messages={"invalid_choice": "Choose one of the statuses in the list."},
    )
    date_from = _date_field("From")
    date_to = _date_field("To")

    def __init__(self, data: Mapping[str, Any], *, courses: Iterable[Course]) -> None:
        super().__init__(data)
        field = cast(forms.TypedChoiceField, self.fields["course"])
        field.choices = [("", "All courses"), *((course.pk, course.title) for course in courses)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "Choose a day on or after the first one.")
        return data

    def sales_filter(self) -> sales.SalesFilter:
        """Return what was chosen, leaving out whatever didn't validate."""
        self.is_valid()
        data = self.cleaned_data
        return sales.SalesFilter(
            course_id=data.get("course"),
            status=data.get("status") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
