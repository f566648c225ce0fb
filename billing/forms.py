"""Forms for getting paid, buying a course and refunding it."""

from decimal import Decimal
from typing import Any, cast

from django import forms
from django_countries import countries

from core.money import to_major, to_minor
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
