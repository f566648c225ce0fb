"""Money as integer minor units plus an ISO 4217 currency code; never floats."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation


@dataclass(frozen=True)
class Currency:
    code: str
    symbol: str
    # How many minor units make one major unit, as a power of ten (2 → cents).
    exponent: int = 2
    # Symbols that are letters read better with a space: "CHF 49.00", not "CHF49.00".
    spaced: bool = False


CURRENCIES: dict[str, Currency] = {
    "EUR": Currency("EUR", "€"),
    "USD": Currency("USD", "$"),
    "GBP": Currency("GBP", "£"),
    "CHF": Currency("CHF", "CHF", spaced=True),
    "CAD": Currency("CAD", "CA$"),
    "AUD": Currency("AUD", "A$"),
}
CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]


def currency(code: str) -> Currency:
    """Return the currency `code`, or a plain one (2 decimals, the code as symbol)."""
    code = (code or "").upper()
    return CURRENCIES.get(code) or Currency(code, code, spaced=True)


def to_minor(amount: Decimal | str | int, code: str) -> int:
    """Convert a major-unit amount ("49.90") to integer minor units (4990).

    Raise ValueError for amounts that are not numbers or have more decimals than
    the currency has minor units.
    """
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"{amount!r} is not an amount") from exc
    if not value.is_finite():
        raise ValueError(f"{amount!r} is not an amount")
    exponent = currency(code).exponent
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{code} amounts have at most {exponent} decimals")
    return int(scaled)


def to_major(amount: int, code: str) -> Decimal:
    """Convert integer minor units (4990) to a major-unit Decimal (49.90)."""
    exponent = currency(code).exponent
    quantum = Decimal(1).scaleb(-exponent)
    return (Decimal(amount).scaleb(-exponent)).quantize(quantum, rounding=ROUND_HALF_UP)


def format_money(amount: int, code: str) -> str:
    """Return an amount in minor units for reading, with its currency: "€1,234.50"."""
    cur = currency(code)
    major = to_major(abs(amount), code)
    digits = f"{major:,.{cur.exponent}f}"
    sign = "-" if amount < 0 else ""
    return f"{sign}{cur.symbol}{' ' if cur.spaced else ''}{digits}"
