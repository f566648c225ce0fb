from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.core import context as allauth_context
from allauth.socialaccount.forms import SignupForm as AllauthSocialSignupForm
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django_countries import countries

from accounts import services, signup_rules
from accounts.models import TIMEZONE_CHOICES, User
from privacy import documents

ROLE_CHOICES = [
    ("student", "I'm here to learn"),
    ("teacher", "I'm here to teach"),
    ("both", "Both — I teach and I learn"),
]
AGE_CHOICES = [
    ("under13", "Under 13"),
    ("13to15", "13 to 15"),
    ("16plus", "16 or older"),
]


def _policy_label(doc: documents.PolicyDocument) -> str:
    return format_html(
        'I have read and accept the <a href="{}" target="_blank" rel="noopener">{}</a>',
        reverse(doc.url_name),
        doc.title,
    )


class SignupDetailsMixin(forms.Form):
    """Fields every sign-up asks for, with email/password or with Google."""

    first_name = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "given-name"})
    )
    last_name = forms.CharField(
        max_length=150, widget=forms.TextInput(attrs={"autocomplete": "family-name"})
    )
    role = forms.ChoiceField(choices=ROLE_CHOICES, widget=forms.RadioSelect, initial="student")
    organisation_name = forms.CharField(
        max_length=200,
        required=False,
        label="Organisation (optional)",
        help_text="The school, studio or company you teach for.",
    )
    country = forms.ChoiceField(choices=[("", "Choose your country"), *countries])
    age_band = forms.ChoiceField(
        choices=AGE_CHOICES,
        widget=forms.RadioSelect,
        label="Your age",
        help_text="You must be 13 or older (16 or older in the EEA) to use Lectern.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # allauth's sign-up views don't hand the request to the form; its context does.
        request: HttpRequest | None = kwargs.pop("request", None) or allauth_context.request
        super().__init__(*args, **kwargs)
        if request is not None and not self.is_bound:
            self.fields["country"].initial = signup_rules.request_country(request)
        for doc in documents.documents().values():
            field = forms.BooleanField(required=False, label=_policy_label(doc))
            if doc.teachers_only:
                field.help_text = "Required if you teach on Lectern."
            self.fields[f"accept_{doc.slug}"] = field

    def clean_first_name(self) -> str:
        return self.cleaned_data["first_name"].strip()

    def clean_last_name(self) -> str:
        return self.cleaned_data["last_name"].strip()

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        country = cleaned.get("country", "")
        age_band = cleaned.get("age_band")
        if age_band == "under13" or (
            age_band == "13to15" and signup_rules.minimum_age(country) > 13
        ):
            self.add_error(
                "age_band",
                f"You must be at least {signup_rules.minimum_age(country)} "
                "to create an account in your country.",
            )
        teaches = cleaned.get("role") in ("teacher", "both")
        for doc in documents.documents().values():
            if (not doc.teachers_only or teaches) and not cleaned.get(f"accept_{doc.slug}"):
                self.add_error(f"accept_{doc.slug}", f"Please accept the {doc.title} to continue.")
        return cleaned

    def apply_details(self, request: HttpRequest, user: User) -> None:
        role = self.cleaned_data["role"]
        services.complete_signup(
            user=user,
            first_name=self.cleaned_data["first_name"],
            last_name=self.cleaned_data["last_name"],
            is_teacher=role in ("teacher", "both"),
            is_student=role in ("student", "both"),
            organisation_name=self.cleaned_data.get("organisation_name", ""),
            country=self.cleaned_data["country"],
        )


class SignupForm(SignupDetailsMixin, AllauthSignupForm):
    field_order = [
        "first_name", "last_name", "email", "password1", "password2", "role",
        "organisation_name", "country", "age_band",
    ]  # fmt: skip

    @transaction.atomic
    def save(self, request: HttpRequest) -> User:
        user = super().save(request)
        self.apply_details(request, user)
        return user


class SocialSignupForm(SignupDetailsMixin, AllauthSocialSignupForm):
    @transaction.atomic
    def save(self, request: HttpRequest) -> User:
        user = super().save(request)
        self.apply_details(request, user)
        return user


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = [
            "first_name",
            "last_name",
            "title",
            "organisation_name",
            "is_teacher",
            "is_student",
        ]
        labels = {"is_teacher": "I teach on Lectern", "is_student": "I take courses on Lectern"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("is_teacher") and not cleaned.get("is_student"):
            raise forms.ValidationError("Choose at least one: teaching or learning.")
        return cleaned


class PreferencesForm(forms.ModelForm):
    timezone = forms.ChoiceField(label="Time zone", choices=TIMEZONE_CHOICES)

    class Meta:
        model = User
        fields = ["timezone", "language", "color_scheme", "send_read_receipts"]
        widgets = {"color_scheme": forms.RadioSelect}
        labels = {"send_read_receipts": "Send read receipts"}


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's log-in, checked the way the site's is.

    Authenticating through allauth's adapter puts each attempt under the same
    limits (failures per address and per account) and the same lockout as the
    site's log-in page, so staff passwords can't be guessed at /admin/login/.
    """

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            self.user_cache = get_adapter(self.request).authenticate(
                self.request, email=email, password=password
            )
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
