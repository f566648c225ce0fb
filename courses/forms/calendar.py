"""Personal calendar events, typed in the person's own time zone."""

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone

_DATETIME_WIDGET_ATTRS = {"type": "datetime-local", "step": "60"}
# Outside these years a time-zone conversion can overflow; nobody plans that far.
_EARLIEST_YEAR, _LATEST_YEAR = 1970, 2200
_LONGEST_EVENT = timedelta(days=366)


def _datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        widget=forms.DateTimeInput(attrs=_DATETIME_WIDGET_ATTRS, format="%Y-%m-%dT%H:%M"),
        error_messages={
            "invalid": "Enter a date and time, e.g. 2026-11-05 18:30.",
            "required": "Enter a date and time.",
        },
    )


class EventForm(forms.Form):
    """A personal event: what, when it starts and ends, and optional notes.

    Times are read and shown in `tz`, the person's time zone; a wall-clock time
    the clocks skip or repeat is refused with a message rather than guessed.
    """

    title = forms.CharField(
        label="Title",
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": "e.g. Office hours"}),
        error_messages={"required": "Give the event a title."},
    )
    starts_at = _datetime_field("Starts")
    ends_at = _datetime_field("Ends")
    notes = forms.CharField(
        label="Notes",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Only you see these; they appear in your calendar feed too.",
    )

    def __init__(self, *args: Any, tz: zoneinfo.ZoneInfo, **kwargs: Any) -> None:
        self.tz = tz
        super().__init__(*args, **kwargs)

    def full_clean(self) -> None:
        # Django reads naive times in the active zone: make that the person's own.
        with timezone.override(self.tz):
            super().full_clean()

    def _in_range(self, name: str) -> datetime | None:
        value: datetime | None = self.cleaned_data.get(name)
        if value is not None and not _EARLIEST_YEAR <= value.year <= _LATEST_YEAR:
            raise forms.ValidationError(
                f"Pick a year between {_EARLIEST_YEAR} and {_LATEST_YEAR}.", code="out_of_range"
            )
        return value

    def clean_starts_at(self) -> datetime | None:
        return self._in_range("starts_at")

    def clean_ends_at(self) -> datetime | None:
        return self._in_range("ends_at")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at is not None and ends_at is not None:
            if ends_at < starts_at:
                self.add_error("ends_at", "The end is before the start. Pick a later end time.")
            elif ends_at - starts_at > _LONGEST_EVENT:
                self.add_error("ends_at", "An event can last at most a year.")
        return cleaned
