"""One form per kind of course item.

Dates and times are typed in the course's own time zone and stored in UTC.
"""

import zoneinfo
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from courses import live
from courses.forms.courses import MARKDOWN_MAX_CHARS, markdown_length_error
from courses.models import Course, CourseItem, Delivery, ItemKind, LatePolicy
from courses.validators import validate_meeting_url

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
# Near year 1 or 9999 a time-zone conversion overflows, on saving or on any page showing
# the item; nobody schedules that far. The same years as personal calendar events.
_EARLIEST_YEAR, _LATEST_YEAR = 1970, 2200


def course_zone(course: Course) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(course.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def combine_in_zone(day: date, at: time, zone: zoneinfo.ZoneInfo) -> datetime:
    """Return the UTC instant of wall-clock `day` `at` in `zone`.

    Raise ValidationError for a time the clocks skip when they go forward.
    """
    local = datetime.combine(day, at, tzinfo=zone)
    utc = local.astimezone(zoneinfo.ZoneInfo("UTC"))
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise ValidationError(
            f"{at:%H:%M} doesn't exist on {day:%-d %B %Y} in {zone.key.replace('_', ' ')}: "
            "the clocks go forward then. Pick another time.",
            code="nonexistent_time",
        )
    return utc


class ItemForm(forms.ModelForm):
    """The fields every kind shares: a title, Markdown text and whether students see it."""

    kind: str = ""
    body_label = "Text"
    body_required = False

    body = forms.CharField(
        label="Text",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Markdown: **bold**, _italic_, lists, links and headings.",
    )

    class Meta:
        model = CourseItem
        fields = ["title", "body", "published"]

    def __init__(self, *args: Any, course: Course, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.course = course
        self.zone = course_zone(course)
        self.fields["body"].label = self.body_label
        self.fields["body"].required = self.body_required
        if "published" in self.fields:
            self.fields["published"].label = "Published — enrolled students can see it"
            if not self.instance.pk:
                self.initial.setdefault("published", True)

    def clean_body(self) -> str:
        text = self.cleaned_data.get("body") or ""
        if len(text) > MARKDOWN_MAX_CHARS:
            raise markdown_length_error("The text", len(text))
        return text

    def item_fields(self) -> dict[str, Any]:
        """Return the cleaned values to store on the item."""
        return {
            name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data
        }

    def _post_clean(self) -> None:
        # The service assigns the fields and saves; the model's own checks are mirrored here.
        pass


class AnnouncementForm(ItemForm):
    kind = ItemKind.ANNOUNCEMENT
    body_label = "Message"
    body_required = True


class MaterialForm(ItemForm):
    kind = ItemKind.MATERIAL
    body_label = "Content"
    body_required = True

    body = forms.CharField(
        label="Content",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text="Markdown: **bold**, _italic_, lists, links, tables and headings.",
    )


class NoteForm(ItemForm):
    kind = ItemKind.NOTE
    body_label = "Note"
    body_required = True

    is_private = forms.TypedChoiceField(
        label="Who can see it",
        choices=[(True, "Only me"), (False, "Shared with enrolled students")],
        coerce=lambda value: value in (True, "True"),
        widget=forms.RadioSelect,
        initial=True,
    )

    class Meta(ItemForm.Meta):
        fields = ["title", "body", "is_private", "published"]


class _WhenMixin(forms.ModelForm):
    """A date and a time in the course's time zone, joined into one UTC instant."""

    when_field = ""
    date_label = "Date"
    time_label = "Time"
    when_required = True

    day = forms.DateField(label="Date", widget=DATE_WIDGET)
    at = forms.TimeField(label="Time", widget=TIME_WIDGET)

    def _set_up_when(self, zone: zoneinfo.ZoneInfo) -> None:
        zone_name = zone.key.replace("_", " ")
        self.fields["day"].label = self.date_label
        self.fields["at"].label = self.time_label
        self.fields["day"].required = self.when_required
        self.fields["at"].required = self.when_required
        self.fields["at"].help_text = f"In the course's time zone, {zone_name}."
        current = getattr(self.instance, self.when_field, None)
        if current is not None:
            local = timezone.localtime(current, zone)
            self.initial.setdefault("day", local.date())
            self.initial.setdefault("at", local.time().replace(second=0, microsecond=0))

    def _clean_when(self, zone: zoneinfo.ZoneInfo) -> datetime | None:
        day, at = self.cleaned_data.get("day"), self.cleaned_data.get("at")
        if day is None and at is None:
            return None
        if day is None or at is None:
            if "day" not in self.errors and "at" not in self.errors:
                missing = "day" if day is None else "at"
                self.add_error(missing, "Give both a date and a time, or neither.")
            return None
        if not _EARLIEST_YEAR <= day.year <= _LATEST_YEAR:
            self.add_error("day", f"Pick a date between {_EARLIEST_YEAR} and {_LATEST_YEAR}.")
            return None
        try:
            return combine_in_zone(day, at, zone)
        except ValidationError as exc:
            self.add_error("at", exc)
            return None


class AssignmentForm(_WhenMixin, ItemForm):
    kind = ItemKind.ASSIGNMENT
    body_label = "Instructions"
    when_field = "due_at"
    date_label = "Due date"
    time_label = "Due time"
    when_required = False

    points = forms.IntegerField(
        label="Points",
        required=False,
        min_value=0,
        max_value=10_000,
        help_text="Leave empty for work that isn't graded with points.",
    )
    late_policy = forms.ChoiceField(
        label="Late work", choices=LatePolicy.choices, widget=forms.RadioSelect
    )

    class Meta(ItemForm.Meta):
        fields = ["title", "body", "points", "late_policy", "published"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_up_when(self.zone)
        self.fields["day"].help_text = "Leave empty for work without a deadline."
        self.initial.setdefault("late_policy", LatePolicy.ACCEPT)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["due_at"] = self._clean_when(self.zone)
        return data

    def item_fields(self) -> dict[str, Any]:
        return {**super().item_fields(), "due_at": self.cleaned_data.get("due_at")}


class DeliverySelect(forms.RadioSelect):
    """Radio buttons where "Live on Lectern" can be shown, with its reason, but not chosen."""

    live_disabled = False

    def create_option(self, name: str, value: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(name, value, *args, **kwargs)
        if value == Delivery.LIVE and self.live_disabled:
            option["attrs"]["disabled"] = True
        return option


class SessionForm(_WhenMixin, ItemForm):
    """A session: when it starts, how long it lasts, and where it takes place.

    "Live on Lectern" is offered only while the server has a LiveKit server
    (`courses.live.available`); a session that is live already stays live when
    edited, so losing the server never turns sessions into link-less ones.
    A live session ignores the meeting link field and keeps any stored link.
    """

    kind = ItemKind.SESSION
    body_label = "Description"
    when_field = "starts_at"
    date_label = "Date"
    time_label = "Start time"

    delivery = forms.ChoiceField(
        label="Where it takes place",
        choices=Delivery.choices,
        required=False,
        initial=Delivery.EXTERNAL,
        widget=DeliverySelect,
    )
    duration_minutes = forms.IntegerField(
        label="Duration (minutes)", min_value=5, max_value=24 * 60, initial=60
    )
    meeting_url = forms.URLField(
        label="Meeting link",
        required=False,
        max_length=500,
        assume_scheme="https",
        validators=[validate_meeting_url],
        help_text="A Zoom, Google Meet or Microsoft Teams link, for a session held outside "
        "Lectern. Students see it once enrolled.",
        widget=forms.URLInput(attrs={"placeholder": "https://meet.google.com/abc-defg-hij"}),
    )

    class Meta(ItemForm.Meta):
        fields = ["title", "body", "delivery", "duration_minutes", "meeting_url", "published"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._set_up_when(self.zone)
        self.live_available = live.available()
        self.was_live = bool(self.instance.pk) and self.instance.delivery == Delivery.LIVE
        # Shown beside the choice whenever live classes can't run here right now.
        self.live_reason = "" if self.live_available else live.NOT_SET_UP
        widget = self.fields["delivery"].widget
        assert isinstance(widget, DeliverySelect)
        widget.live_disabled = not self.live_offered

    @property
    def live_offered(self) -> bool:
        return self.live_available or self.was_live

    def clean_delivery(self) -> str:
        # Nothing chosen keeps what the session has: a new one takes an external link.
        delivery = self.cleaned_data.get("delivery") or self.instance.delivery or Delivery.EXTERNAL
        if delivery == Delivery.LIVE and not self.live_offered:
            raise ValidationError(live.NOT_SET_UP, code="live_unavailable")
        return delivery

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        data["starts_at"] = self._clean_when(self.zone)
        if data.get("delivery") == Delivery.LIVE:
            # The link field is hidden for a live session: what it holds doesn't matter.
            self.errors.pop("meeting_url", None)
            data.pop("meeting_url", None)
        return data

    def item_fields(self) -> dict[str, Any]:
        return {**super().item_fields(), "starts_at": self.cleaned_data.get("starts_at")}


class LinkForm(ItemForm):
    kind = ItemKind.LINK
    body_label = "Why it's worth a look"

    url = forms.URLField(
        label="Link",
        max_length=1000,
        assume_scheme="https",
        help_text="An http:// or https:// address.",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
    )

    class Meta(ItemForm.Meta):
        fields = ["title", "url", "body", "published"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if not url.lower().startswith(("http://", "https://")):
            raise ValidationError("Links must start with http:// or https://.", code="scheme")
        return url


class FileForm(ItemForm):
    kind = ItemKind.FILE
    body_label = "Description"

    upload = forms.FileField(
        label="File",
        help_text="PDF, images, office documents, text, zip, MP3 or MP4.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.file_id:
            self.fields["upload"].required = False
            self.fields["upload"].label = "Replace the file"


FORMS: dict[str, type[ItemForm]] = {
    form.kind: form
    for form in (
        AnnouncementForm,
        MaterialForm,
        AssignmentForm,
        NoteForm,
        SessionForm,
        FileForm,
        LinkForm,
    )
}


def form_for(kind: str) -> type[ItemForm]:
    return FORMS[kind]
