"""Forms for registering on a course page and for adding students to a roster."""

from typing import Any

from allauth.account.forms import ResetPasswordKeyForm
from django import forms

from accounts import signup_rules

DISPOSABLE_MESSAGE = (
    "Addresses from throwaway-mail services can't be used on Lectern. Please use an address "
    "you'll keep, so you can receive course updates and recover your account."
)


class GuestRegistrationForm(forms.Form):
    """A visitor's name and email, to register for a free course without an account."""

    first_name = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        help_text="We'll email you a link to choose a password and open the course.",
    )

    def clean_first_name(self) -> str:
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self) -> str:
        return self.cleaned_data["last_name"].strip()

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if signup_rules.is_disposable_email(email):
            raise forms.ValidationError(DISPOSABLE_MESSAGE, code="disposable_email")
        return email


class AddStudentForm(forms.Form):
    """A teacher adds a student by email; new addresses get an invitation."""

    email = forms.EmailField(
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "placeholder": "name@example.com"}),
    )
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for name in ("first_name", "last_name"):
            cleaned[name] = (cleaned.get(name) or "").strip()
        return cleaned


class ChoosePasswordForm(ResetPasswordKeyForm):
    """allauth's new-password form (its validators and checks), for invited people."""
