"""Markdown to safe HTML: the one renderer for every user-written or policy text."""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

# Raise by one whenever what `render_markdown` produces changes (tags, attributes, URL
# schemes, Markdown extensions): HTML stored by an older version is rendered again before
# it is shown, so stricter rules reach what was written before them.
RENDERER_VERSION = 1

_ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "li", "ol", "p", "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}


def render_markdown(text: str) -> SafeString:
    """Render Markdown and keep only a safe subset of HTML."""
    html = markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitised by nh3 just above  # nosec B308, B703
