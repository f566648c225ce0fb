"""The Plan & billing page's forms: which prices to show, the price chosen, the portal task."""

from typing import Any

from django import forms

from billing.models import PlanPrice
from billing.models.plans import Interval


class ShowPricesForm(forms.Form):
    """Read from the query string: the interval and currency the plan chooser shows."""

    interval = forms.ChoiceField(
        label="Billed", choices=Interval.choices, required=False, widget=forms.RadioSelect
    )
    currency = forms.ChoiceField(label="Currency", choices=(), required=False)

    def __init__(self, *args: Any, currencies: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        currency = self.fields["currency"]
        assert isinstance(currency, forms.ChoiceField)
        currency.choices = [(code, code) for code in currencies]
        currency.error_messages["invalid_choice"] = "Plans aren't priced in that currency."
        self.fields["interval"].error_messages["invalid_choice"] = "Choose monthly or yearly."


class PriceChoiceForm(forms.Form):
    """A plan's price, chosen from those offered."""

    price = forms.ModelChoiceField(
        queryset=PlanPrice.objects.none(),
        error_messages={
            "required": "Choose a plan.",
            "invalid_choice": "Choose one of the plans shown on this page.",
        },
    )

    def __init__(self, *args: Any, prices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        price = self.fields["price"]
        assert isinstance(price, forms.ModelChoiceField)
        price.queryset = prices


class PortalForm(forms.Form):
    """What the teacher goes to Stripe's Customer Portal for."""

    flow = forms.ChoiceField(
        choices=[
            ("manage", "Billing details and invoices"),
            ("payment_method", "Change the card"),
            ("cancel", "Cancel the plan"),
        ],
        error_messages={
            "required": "Say what to open in the billing portal.",
            "invalid_choice": "Say what to open in the billing portal.",
        },
    )
