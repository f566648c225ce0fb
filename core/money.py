"""Money as integer minor units plus an ISO 4217 currency code; never floats.

Minor units are counted the way Stripe counts them, so a stored amount is the
amount its API takes: cents for most currencies, whole units for the
zero-decimal ones (¥500 is 500), thousandths for the three-decimal dinars
(5.120 KWD is 5120). A few currencies keep two decimals in the API while only
some amounts are valid: Stripe refuses fractional Icelandic krónur (ISK 5 is
500, and 550 is refused) and three-decimal amounts whose last digit isn't 0.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Stripe's zero-decimal currencies: the amount is in whole units.
ZERO_DECIMAL = frozenset(
    {
        "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
        "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
    }
)  # fmt: skip
# Stripe's three-decimal currencies: amounts in thousandths, rounded to tens.
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# Two decimals in the API, but only whole units can be charged (ISK 5 is 500).
WHOLE_UNITS_ONLY = frozenset({"ISK"})


@dataclass(frozen=True)
class Currency:
    code: str
    symbol: str
    # How many minor units make one major unit, as a power of ten (2 → cents).
    exponent: int = 2
    # Symbols that are letters read better with a space: "CHF 49.00", not "CHF49.00".
    spaced: bool = False
    # Valid amounts are multiples of this many minor units.
    step: int = 1
    # Decimals shown when formatting; fewer than `exponent` when those are always zero.
    decimals: int = 2


def _currency(code: str, symbol: str | None = None) -> Currency:
    """Describe `code` as Stripe counts it, with `symbol` (the code itself by default)."""
    if code in ZERO_DECIMAL:
        exponent, step, decimals = 0, 1, 0
    elif code in THREE_DECIMAL:
        exponent, step, decimals = 3, 10, 3
    elif code in WHOLE_UNITS_ONLY:
        exponent, step, decimals = 2, 100, 0
    else:
        exponent, step, decimals = 2, 1, 2
    return Currency(
        code,
        symbol or code,
        exponent=exponent,
        spaced=symbol is None or symbol.isalpha(),
        step=step,
        decimals=decimals,
    )


# The currencies a course can be priced in.
CURRENCIES: dict[str, Currency] = {
    "EUR": _currency("EUR", "€"),
    "USD": _currency("USD", "$"),
    "GBP": _currency("GBP", "£"),
    "CHF": _currency("CHF", "CHF"),
    "CAD": _currency("CAD", "CA$"),
    "AUD": _currency("AUD", "A$"),
}
CURRENCY_CHOICES = [(code, code) for code in CURRENCIES]
# Symbols for other currencies, which otherwise show their code: "KWD 5.120".
_SYMBOLS = {"JPY": "¥", "KRW": "₩"}


def currency(code: str) -> Currency:
    """Return the currency `code` as Stripe counts it (unknown codes: 2 decimals, code shown)."""
    code = (code or "").upper()
    return CURRENCIES.get(code) or _currency(code, _SYMBOLS.get(code))


def to_minor(amount: Decimal | str | int, code: str) -> int:
    """Convert a major-unit amount ("49.90") to integer minor units (4990).

    Raise ValueError for amounts that are not numbers or that the currency
    cannot charge exactly: too many decimals (¥1.5, 1.001 EUR), fractional
    krónur (ISK 5.50) or a three-decimal amount not rounded to tens (5.125 KWD).
    """
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"{amount!r} is not an amount") from exc
    if not value.is_finite():
        raise ValueError(f"{amount!r} is not an amount")
    cur = currency(code)
    scaled = value.scaleb(cur.exponent)
    if scaled != scaled.to_integral_value():
        if cur.exponent == 0:
            raise ValueError(f"{cur.code} amounts are whole numbers, without decimals")
        raise ValueError(f"{cur.code} amounts have at most {cur.exponent} decimals")
    minor = int(scaled)
    if minor % cur.step:
        if cur.decimals == 0:
            raise ValueError(f"{cur.code} amounts are whole numbers, without decimals")
        smallest = Decimal(cur.step).scaleb(-cur.exponent)
        raise ValueError(f"{cur.code} amounts must be multiples of {smallest}")
    return minor


def to_major(amount: int, code: str) -> Decimal:
    """Convert integer minor units (4990) to a major-unit Decimal (49.90; ISK 500 → 5)."""
    cur = currency(code)
    quantum = Decimal(1).scaleb(-cur.decimals)
    return Decimal(amount).scaleb(-cur.exponent).quantize(quantum, rounding=ROUND_HALF_UP)


def format_money(amount: int, code: str) -> str:
    """Return an amount in minor units for reading, with its currency: "€1,234.50"."""
    cur = currency(code)
    major = to_major(abs(amount), code)
    digits = f"{major:,.{cur.decimals}f}"
    sign = "-" if amount < 0 else ""
    return f"{sign}{cur.symbol}{' ' if cur.spaced else ''}{digits}"
