"""Read what a page tells its browser to do next: the poller's URL and ETag, the CSRF token.

The capacity benchmark's simulated browsers follow these instead of building
URLs themselves, so they poll exactly as htmx would with the page they got.
Kept free of locust (and gevent) so tests can check it against the templates.
"""

import html
import json
import re

POLLER = re.compile(r'<div id="poller"(.*?)>', re.S)
BADGE = re.compile(r'<span id="nav-unread"(.*?)>', re.S)
_ATTR = re.compile(r"""([\w-]+)=(?:"([^"]*)"|'([^']*)')""")
_EVERY = re.compile(r"every (\d+(?:\.\d+)?)s")
_CSRF = re.compile(r"\"X-CSRFToken\": \"([^\"]+)\"")


def _attrs(tag_body: str) -> dict[str, str]:
    return {m[1]: html.unescape(m[2] or m[3]) for m in _ATTR.finditer(tag_body)}


def polling_element(pattern: re.Pattern[str], page: str) -> tuple[str, str, float] | None:
    """Return the hx-get URL, If-None-Match value and interval of a polling element, if any."""
    found = pattern.search(page)
    if found is None:
        return None
    attrs = _attrs(found[1])
    headers = json.loads(attrs.get("hx-headers", "{}"))
    every = _EVERY.search(attrs.get("hx-trigger", ""))
    return attrs["hx-get"], headers.get("If-None-Match", ""), float(every[1]) if every else 0.0


def csrf_token(page: str) -> str | None:
    """Return the token the page's <body hx-headers> gives every htmx request."""
    found = _CSRF.search(page)
    return found[1] if found else None
