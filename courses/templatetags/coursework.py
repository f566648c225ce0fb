"""Template filters for submissions and grades."""

from django import template
from django.utils.safestring import SafeString

from core.markdown import render_markdown

register = template.Library()


@register.filter
def markdown(text: str | None) -> SafeString:
    """Render a student's answer or a teacher's feedback as safe HTML."""
    return render_markdown(text or "")
