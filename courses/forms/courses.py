"""Forms teachers use to describe a course and their public page."""

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.text import slugify

from accounts.models import TIMEZONE_CHOICES, User
from core.money import CURRENCY_CHOICES, to_major, to_minor
from courses import ai as course_ai
from courses.models import Course, Visibility

MARKDOWN_MAX_CHARS = 50_000
# Paths under /teach/courses/ that a course's address must not shadow.
RESERVED_SLUGS = frozenset({"new"})
RESERVED_HANDLES = frozenset({"new", "admin", "settings"})
# How live classes turn minutes in the room into attendance; empty fields take the defaults.
MAX_LATE_AFTER_MINUTES = 240
DEFAULT_LATE_AFTER_MINUTES = Course._meta.get_field("late_after_minutes").get_default()
DEFAULT_PRESENT_MIN_PERCENT = Course._meta.get_field("present_min_percent").get_default()
LATE_AFTER_RANGE_ERROR = f"Enter a number of minutes from 0 to {MAX_LATE_AFTER_MINUTES}."
PRESENT_RANGE_ERROR = "Enter a percentage from 0 to 100."


def markdown_length_error(name: str, length: int) -> ValidationError:
    return ValidationError(
        f"{name} can be at most {MARKDOWN_MAX_CHARS:,} characters; this one has {length:,}. "
        "Shorten it, or split it into course materials.",
        code="too_long",
    )


class CourseForm(forms.ModelForm):
    """Everything a storefront shows about a course.

    The price is typed in major units ("49.90") and stored as integer minor units.
    """

    price = forms.DecimalField(
        label="Price",
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100_000),
        max_digits=8,
        decimal_places=2,
        help_text="Leave empty or 0 for a free course.",
        error_messages={"min_value": "A price can't be negative; use 0 for a free course."},
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(label="Currency", choices=CURRENCY_CHOICES)
    timezone = forms.ChoiceField(
        label="Course time zone",
        choices=TIMEZONE_CHOICES,
        help_text="Session times and due dates are set in this time zone.",
    )
    cover_upload = forms.FileField(
        label="Cover image",
        required=False,
        help_text="A PNG, JPEG, GIF or WebP image, shown on the course page and in link previews.",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}
        ),
    )
    remove_cover = forms.BooleanField(label="Remove the current cover", required=False)
    # Length is checked in clean_description, to say how long the text is.
    description = forms.CharField(
        label="Description",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Markdown: **bold**, _italic_, lists, links and headings. "
        "Needed before publishing.",
    )
    capacity = forms.IntegerField(
        label="Seats",
        required=False,
        min_value=1,
        max_value=100_000,
        help_text="Leave empty for unlimited seats.",
        error_messages={
            "min_value": "Enter at least 1 seat, or leave it empty for unlimited seats."
        },
        widget=forms.NumberInput(attrs={"min": 1, "inputmode": "numeric"}),
    )

    students_may_publish = forms.BooleanField(
        label="Students may turn on their camera and microphone",
        required=False,
        help_text="Otherwise students watch, listen and chat, and speak when you invite them "
        "on stage during the class.",
    )
    late_after_minutes = forms.IntegerField(
        label="Late after (minutes)",
        required=False,
        min_value=0,
        max_value=MAX_LATE_AFTER_MINUTES,
        help_text="A student who first joins a live class later than this after its start is "
        f"marked late. Leave empty for {DEFAULT_LATE_AFTER_MINUTES}.",
        error_messages={
            "invalid": "Enter a whole number of minutes.",
            "min_value": LATE_AFTER_RANGE_ERROR,
            "max_value": LATE_AFTER_RANGE_ERROR,
        },
        widget=forms.NumberInput(
            attrs={"min": 0, "max": MAX_LATE_AFTER_MINUTES, "inputmode": "numeric"}
        ),
    )
    present_min_percent = forms.IntegerField(
        label="Present for at least (% of the session)",
        required=False,
        min_value=0,
        max_value=100,
        help_text="A student in a live class for less of it than this is marked absent; "
        f"0 counts any visit. Leave empty for {DEFAULT_PRESENT_MIN_PERCENT}.",
        error_messages={
            "invalid": "Enter a whole percentage, like 50.",
            "min_value": PRESENT_RANGE_ERROR,
            "max_value": PRESENT_RANGE_ERROR,
        },
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "inputmode": "numeric"}),
    )

    class Meta:
        model = Course
        fields = [
            "title",
            "slug",
            "summary",
            "description",
            "starts_on",
            "ends_on",
            "schedule",
            "timezone",
            "visibility",
            "capacity",
            "currency",
            "organisation",
            "students_may_publish",
            "late_after_minutes",
            "present_min_percent",
            "ai_assistant",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "visibility": forms.RadioSelect,
        }
        labels = {"ai_assistant": "Course assistant for students"}
        help_texts = {
            "ai_assistant": "Students who turn on AI features can ask questions about the course "
            "and have materials explained. Answers come only from this course's published items, "
            "with links to the items used; drafts and private notes are never used.",
            "slug": "Letters, numbers and hyphens. Made from the title when left empty.",
            "organisation": "The school, studio or company this course is taught for.",
        }

    def __init__(self, *args: Any, teacher: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.teacher = teacher
        self.fields["slug"].required = False
        self.fields["slug"].label = "Web address"
        if self.instance.pk:
            if self.instance.price_amount:
                self.initial["price"] = to_major(self.instance.price_amount, self.instance.currency)
        else:
            self.initial.setdefault("organisation", teacher.organisation_name)
            self.initial.setdefault("timezone", teacher.timezone or "UTC")
            self.initial.setdefault("visibility", Visibility.DRAFT)
        if not (self.instance.pk and self.instance.cover_id):
            del self.fields["remove_cover"]
        # Without AI on this server the switch is shown, off limits, with the reason; a
        # disabled field takes its stored value, whatever is posted.
        self.ai_reason = "" if course_ai.available() else course_ai.NOT_CONFIGURED
        if self.ai_reason:
            assistant = self.fields["ai_assistant"]
            assistant.disabled = True
            assistant.help_text = format_html(
                '<span class="choice-reason">{}</span> {}', self.ai_reason, assistant.help_text
            )

    def clean_slug(self) -> str:
        slug = self.cleaned_data.get("slug") or ""
        if not slug:
            return ""
        slug = slug.lower()
        if slug in RESERVED_SLUGS:
            raise ValidationError("That address is reserved; choose another.", code="reserved")
        taken = Course.objects.filter(slug=slug).exclude(pk=self.instance.pk).exists()
        if taken:
            raise ValidationError(
                f"The address /c/{slug}/ is already taken by another course. Choose another.",
                code="unique",
            )
        return slug

    def clean_description(self) -> str:
        text = self.cleaned_data.get("description") or ""
        if len(text) > MARKDOWN_MAX_CHARS:
            raise markdown_length_error("A description", len(text))
        return text

    def clean_late_after_minutes(self) -> int:
        minutes = self.cleaned_data.get("late_after_minutes")
        return DEFAULT_LATE_AFTER_MINUTES if minutes is None else minutes

    def clean_present_min_percent(self) -> int:
        percent = self.cleaned_data.get("present_min_percent")
        return DEFAULT_PRESENT_MIN_PERCENT if percent is None else percent

    def clean_capacity(self) -> int | None:
        capacity = self.cleaned_data.get("capacity")
        if capacity is not None and capacity < 1:
            raise ValidationError(
                "Enter at least 1 seat, or leave it empty for unlimited seats.", code="min_value"
            )
        return capacity

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The course can't end before it starts.")
        if not data.get("slug") and data.get("title") and "slug" not in self.errors:
            data["slug"] = unique_slug(data["title"], exclude_pk=self.instance.pk)
        price = data.get("price")
        if price is not None and "currency" in data:
            try:
                data["price_amount"] = to_minor(price, data["currency"])
            except ValueError as exc:
                self.add_error("price", str(exc))
        else:
            data["price_amount"] = 0
        going_live = data.get("visibility") not in (None, "", Visibility.DRAFT)
        described = bool((data.get("description") or "").strip())
        if going_live and not described and "description" not in self.errors:
            self.add_error(
                "description",
                "Write a description before publishing: it is what visitors read first.",
            )
        return data

    def course_fields(self) -> dict[str, Any]:
        """Return the cleaned values to store on the course."""
        names = [n for n in self.Meta.fields if n in self.cleaned_data]
        fields = {n: self.cleaned_data[n] for n in names}
        fields["price_amount"] = self.cleaned_data.get("price_amount", 0)
        return fields

    def _post_clean(self) -> None:
        # The service assigns the fields; skip ModelForm's own instance update and
        # its unique check, which clean_slug already did with a clearer message.
        pass


def unique_slug(title: str, *, exclude_pk: int | None = None) -> str:
    """Return a free course address made from `title`: "intro-to-clay", "intro-to-clay-2"..."""
    base = (slugify(title) or "course")[:72].strip("-") or "course"
    if base in RESERVED_SLUGS:
        base = f"{base}-course"
    others = Course.objects.filter(slug__startswith=base)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    taken = set(others.values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


class PublishForm(forms.Form):
    """Publish a draft course, listed on the teacher's page or reachable only by link."""

    visibility = forms.ChoiceField(
        choices=[(Visibility.PUBLIC, "Public"), (Visibility.UNLISTED, "Unlisted")],
        initial=Visibility.PUBLIC,
    )


class HandleForm(forms.Form):
    """The address of the teacher's public page, /t/<handle>/."""

    handle = forms.SlugField(
        label="Public page address",
        max_length=40,
        help_text="Letters, numbers and hyphens; your page lives at /t/your-address/.",
    )

    def __init__(self, *args: Any, teacher: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.teacher = teacher

    def clean_handle(self) -> str:
        handle = self.cleaned_data["handle"].lower()
        if handle in RESERVED_HANDLES:
            raise ValidationError("That address is reserved; choose another.", code="reserved")
        if User.objects.filter(handle=handle).exclude(pk=self.teacher.pk).exists():
            raise ValidationError(
                f"The address /t/{handle}/ is already taken. Choose another.", code="unique"
            )
        return handle
