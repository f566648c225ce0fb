"""Template filters for submissions, grades and recordings, and the AI actions of a page."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from core.markdown import render_markdown
from courses import ai as course_ai

register = template.Library()


@register.filter
def markdown(text: str | None) -> SafeString:
    """Render a student's answer or a teacher's feedback as safe HTML."""
    return render_markdown(text or "")


@register.filter
def clock(seconds: int | None) -> str:
    """Show a length in seconds as h:mm:ss ("1:02:05"); empty when unknown."""
    if seconds is None:
        return ""
    minutes, secs = divmod(max(int(seconds), 0), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@register.simple_tag
def ai_links(place: str, obj: Any, viewer: Any) -> list[course_ai.AiLink]:
    """The AI actions `viewer` has at `place`: `{% ai_links "item" item user as links %}`."""
    return course_ai.links(place, obj, viewer)
