"""Forms for getting paid, buying a course and refunding it."""

from decimal import Decimal
from typing import Any, cast

from django import forms
from django_countries import countries

from core.money import CURRENCY_CHOICES, to_major, to_minor
from courses.forms.enrolment import GuestRegistrationForm

# Countries where Stripe Connect Express accounts can be opened.
CONNECT_COUNTRIES = [
    "AT",
    "AU",
    "BE",
    "BG",
    "CA",
    "CH",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GB",
    "GI",
    "GR",
    "HK",
    "HR",
    "HU",
    "IE",
    "IT",
    "JP",
    "LI",
    "LT",
    "LU",
    "LV",
    "MT",
    "MX",
    "MY",
    "NL",
    "NO",
    "NZ",
    "PL",
    "PT",
    "RO",
    "SE",
    "SG",
    "SI",
    "SK",
    "TH",
    "US",
]


class ConnectForm(forms.Form):
    country = forms.ChoiceField(
        label="Country of your business or residence",
        help_text="Stripe opens your account in this country. It can't be changed later.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = dict(countries)
        choices = sorted(
            ((code, str(names.get(code, code))) for code in CONNECT_COUNTRIES),
            key=lambda pair: pair[1],
        )
        field = cast(forms.ChoiceField, self.fields["country"])
        field.choices = [("", "Choose a country"), *choices]


class CouponCodeField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Coupon code")
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        return str(super().clean(value) or "").strip()


class BuyForm(forms.Form):
    """A signed-in student buying: only an optional coupon code."""

    code = CouponCodeField()


class VisitorBuyForm(GuestRegistrationForm):
    """A visitor buying: name and email first (an account is made), then an optional code."""

    code = CouponCodeField()


class RefundForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount to refund",
        min_value=Decimal("0.001"),
        max_digits=12,
        decimal_places=3,
        error_messages={"min_value": "Refund more than nothing."},
    )
    keep_access = forms.BooleanField(
        label="Let the student keep access to the course",
        required=False,
        help_text="Unticked, a full refund ends their enrolment.",
    )
    reason = forms.CharField(label="Note for your records", max_length=200, required=False)

    def __init__(self, *args: Any, currency: str, refundable: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.refundable = refundable
        self.fields["amount"].initial = to_major(refundable, currency)

    def clean_amount(self) -> int:
        try:
            minor = to_minor(self.cleaned_data["amount"], self.currency)
        except ValueError as error:
            raise forms.ValidationError(str(error)) from error
        if minor > self.refundable:
            limit = to_major(self.refundable, self.currency)
            raise forms.ValidationError(f"At most {limit} {self.currency} is left to refund.")
        if minor <= 0:
            raise forms.ValidationError("Refund more than nothing.")
        return minor


class CouponForm(forms.Form):
    """A teacher's coupon: a code, what it takes off, where and until when it works."""

    KIND_CHOICES = [("percent", "A percentage off"), ("amount", "A fixed amount off")]

    code = forms.RegexField(
        label="Code",
        max_length=40,
        regex=r"^[A-Za-z0-9_-]{3,40}$",
        error_messages={"invalid": "Use 3 to 40 letters, digits, dashes or underscores."},
        help_text="What students type at checkout; capital letters don't matter.",
    )
    course = forms.TypedChoiceField(label="Works for", coerce=int, empty_value=None, required=False)
    kind = forms.ChoiceField(label="Discount", choices=KIND_CHOICES, widget=forms.RadioSelect)
    value = forms.DecimalField(
        label="How much off",
        min_value=Decimal("0.001"),
        max_digits=12,
        decimal_places=3,
        help_text="A percentage (1 to 100), or an amount in the course's currency.",
    )
    currency = forms.ChoiceField(
        label="Currency of the amount",
        required=False,
        help_text="For an amount off on all your courses: it works on courses in this currency.",
    )
    starts_on = forms.DateField(
        label="Valid from",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    ends_on = forms.DateField(
        label="Valid until (included)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    max_redemptions = forms.IntegerField(
        label="Total uses",
        required=False,
        min_value=1,
        max_value=1_000_000,
        help_text="Leave empty for no limit.",
    )
    once_per_student = forms.BooleanField(label="Once per student", required=False, initial=True)
    active = forms.BooleanField(label="Active", required=False, initial=True)

    def __init__(self, *args: Any, courses: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.courses = {course.pk: course for course in courses}
        field = cast(forms.TypedChoiceField, self.fields["course"])
        field.choices = [("", "All my courses"), *((c.pk, c.title) for c in courses)]
        currency = cast(forms.ChoiceField, self.fields["currency"])
        currency.choices = [("", "—"), *CURRENCY_CHOICES]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        course = self.courses.get(data.get("course") or 0)
        data["course_obj"] = course
        kind, value = data.get("kind"), data.get("value")
        if kind == "percent" and value is not None:
            if value != value.to_integral_value() or not 1 <= value <= 100:
                self.add_error("value", "A percentage is a whole number from 1 to 100.")
            else:
                data["percent_off"], data["amount_off"] = int(value), None
        elif kind == "amount" and value is not None:
            code = course.currency if course else data.get("currency")
            if not code:
                self.add_error("currency", "Choose the currency the amount is in.")
            else:
                try:
                    data["amount_off"] = to_minor(value, code)
                except ValueError as error:
                    self.add_error("value", str(error))
                data["percent_off"], data["currency"] = None, code
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The last day comes after the first.")
        return data
