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


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        # Zero-decimal: the amount is in whole units.
        ("500", "JPY", 500),
        ("50000", "KRW", 50000),
        ("3000", "UGX", 3000),
        ("1500", "CLP", 1500),
        ("2.0", "jpy", 2),
        # Three-decimal: thousandths, the last digit always 0.
        ("5.12", "KWD", 5120),
        ("5.120", "BHD", 5120),
        ("12", "JOD", 12000),
        ("0.5", "OMR", 500),
        ("7.99", "TND", 7990),
        # Two decimals in the API; krónur only whole.
        ("5", "ISK", 500),
        ("1990", "ISK", 199000),
        # Two decimals, as most currencies.
        ("1500.50", "HUF", 150050),
        ("99.99", "TWD", 9999),
    ],
)
def test_it_counts_minor_units_as_stripe_does(typed: str, currency: str, minor: int) -> None:
    assert to_minor(typed, currency) == minor


@pytest.mark.parametrize(
    ("typed", "currency", "message"),
    [
        ("1.5", "JPY", "JPY amounts are whole numbers"),
        ("0.01", "KRW", "KRW amounts are whole numbers"),
        ("5.125", "KWD", "KWD amounts must be multiples of 0.010"),
        ("5.1234", "BHD", "BHD amounts have at most 3 decimals"),
        ("5.50", "ISK", "ISK amounts are whole numbers"),
        ("1.001", "HUF", "HUF amounts have at most 2 decimals"),
    ],
)
def test_it_refuses_amounts_stripe_would_refuse(typed: str, currency: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_minor(typed, currency)


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [
        (500, "JPY", Decimal("500")),
        (5120, "KWD", Decimal("5.120")),
        (500, "ISK", Decimal("5")),
        (150050, "HUF", Decimal("1500.50")),
    ],
)
def test_it_converts_back_as_stripe_counts(minor: int, currency: str, major: Decimal) -> None:
    assert to_major(minor, currency) == major
    assert str(to_major(minor, currency)) == str(major)
    assert to_minor(to_major(minor, currency), currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (500, "JPY", "¥500"),
        (1234567, "KRW", "₩1,234,567"),
        (3000, "UGX", "UGX 3,000"),
        (5120, "KWD", "KWD 5.120"),
        (-12000, "JOD", "-JOD 12.000"),
        (199000, "ISK", "ISK 1,990"),
        (150050, "HUF", "HUF 1,500.50"),
        (9999, "TWD", "TWD 99.99"),
    ],
)
def test_it_formats_other_currencies_as_they_are_written(
    amount: int, currency: str, text: str
) -> None:
    assert format_money(amount, currency) == text


def test_it_has_a_template_filter() -> None:
    template = Template('{% load money %}{{ amount|money:"EUR" }}')
    assert template.render(Context({"amount": 4990})) == "€49.90"
