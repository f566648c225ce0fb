"""Money in minor units: converting typed amounts and formatting with the currency."""

from decimal import Decimal

import pytest
from django.template import Context, Template

from core.money import format_money, to_major, to_minor


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [("49.90", "EUR", 4990), ("0", "USD", 0), ("12", "GBP", 1200), (Decimal("0.01"), "CHF", 1)],
)
def test_it_converts_major_units_to_minor_units(typed: str, currency: str, minor: int) -> None:
    assert to_minor(typed, currency) == minor


@pytest.mark.parametrize("typed", ["1.001", "abc", "NaN", "Infinity"])
def test_it_refuses_amounts_it_cannot_store_exactly(typed: str) -> None:
    with pytest.raises(ValueError, match=r"amount|decimals"):
        to_minor(typed, "EUR")


def test_it_converts_back_to_major_units() -> None:
    assert to_major(4990, "EUR") == Decimal("49.90")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (4990, "EUR", "€49.90"),
        (123456, "USD", "$1,234.56"),
        (500, "GBP", "£5.00"),
        (2000, "CHF", "CHF 20.00"),
        (1999, "CAD", "CA$19.99"),
        (1, "AUD", "A$0.01"),
        (-250, "EUR", "-€2.50"),
        (1000, "SEK", "SEK 10.00"),
    ],
)
def test_it_formats_with_the_currency(amount: int, currency: str, text: str) -> None:
    assert format_money(amount, currency) == text


def test_it_has_a_template_filter() -> None:
    template = Template('{% load money %}{{ amount|money:"EUR" }}')
    assert template.render(Context({"amount": 4990})) == "€49.90"
