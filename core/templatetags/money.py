"""Template filters for money stored as minor units."""

from django import template

from core.money import format_money

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """Return `amount` (minor units) formatted with `currency`: {{ price|money:"EUR" }}."""
    if amount is None:
        return ""
    return format_money(int(amount), currency)
