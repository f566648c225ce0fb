"""The "Explain this page" button on the policy pages, shown only when it can be offered."""

from django import template

from privacy import explain

register = template.Library()


@register.simple_tag
def explain_page_url(page: str) -> str:
    """Where `page`'s summary is, or "": `{% explain_page_url "terms" as explain_url %}`."""
    return explain.url_for(page)
