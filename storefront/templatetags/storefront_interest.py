"""`{% interest_url course answer as url %}`: where to ask to be told when a course opens."""

from typing import Any

from django import template

from storefront import interest

register = template.Library()


@register.simple_tag
def interest_url(course: Any, answer: Any) -> str:
    return interest.url_for(course, answer)
