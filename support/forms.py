"""The contact form (anyone) and the help form (signed in), both with a honeypot.

The honeypot is a field people never see or reach (hidden by CSS, skipped by
keyboards and screen readers); form-filling bots fill it in, and are then
thanked without anything being stored or sent.
"""

from typing import Any

from django import forms

from support.models import SupportRequest

HONEYPOT = "website"
MESSAGE_MIN = 10
MESSAGE_MAX = 5000
NAME_MAX = 150

_CATEGORY_CHOICES = [("", "Choose a topic"), *SupportRequest.Category.choices]


class SupportForm(forms.Form):
    category = forms.ChoiceField(
        label="Topic",
        choices=_CATEGORY_CHOICES,
        required=False,
        help_text="Helps the right person answer you sooner.",
    )
    message = forms.CharField(
        label="Message",
        min_length=MESSAGE_MIN,
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="What happened, what you expected, and any page or course it is about.",
        error_messages={
            "required": "Write your message.",
            "min_length": f"Tell us a little more: at least {MESSAGE_MIN} characters.",
            "max_length": f"Keep it under {MESSAGE_MAX} characters; we can ask for more.",
        },
    )
    website = forms.CharField(
        label="Leave this empty",
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args: Any, topic: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if topic in SupportRequest.Category.values:
            self.fields["category"].initial = topic

    @classmethod
    def caught(cls, data: Any) -> bool:
        """Say whether a submission filled in the honeypot: a bot's, whatever else it holds."""
        return bool(str(data.get(HONEYPOT, "")).strip())

    def clean_category(self) -> str:
        return self.cleaned_data["category"] or SupportRequest.Category.OTHER


class ContactForm(SupportForm):
    """For anyone: who to answer comes from the form."""

    name = forms.CharField(
        label="Your name",
        max_length=NAME_MAX,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Tell us your name."},
    )
    email = forms.EmailField(
        label="Your email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We answer here, and use it for nothing else.",
        error_messages={
            "required": "Give the address we should answer.",
            "invalid": "Enter an email address like name@example.com.",
        },
    )

    field_order = ["name", "email", "category", "message", HONEYPOT]

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name.isprintable():
            raise forms.ValidationError("Use letters, numbers and punctuation only.")
        return name

    def clean_email(self) -> str:
        local, _, domain = self.cleaned_data["email"].strip().rpartition("@")
        return f"{local}@{domain.lower()}"


class HelpForm(SupportForm):
    """For signed-in people: the answer goes to their account's address."""
