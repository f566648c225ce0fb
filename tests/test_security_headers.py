"""Content-Security-Policy on every page, and templates that keep working under it.

Every URL pattern of the URL configuration is requested as each kind of person
of the authorization matrix (tests/test_authorization_matrix.py, whose entries
say how to build each URL), and every HTML answer (pages, error pages, log-in
pages) must carry a policy that refuses inline script, eval and framing, plus
X-Frame-Options for browsers without CSP level 2.

Because the policy refuses inline script, a template with an onclick= or a
<script> without a src or the request's nonce would silently break: the second
half of this file reads every template for those.
"""

import re
from pathlib import Path

from django.conf import settings
from django.test import Client

from accounts.models import User
from tests import test_authorization_matrix as matrix

FORBIDDEN_SCRIPT_SOURCES = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:")


def parse_policy(header: str) -> dict[str, list[str]]:
    """Return the policy's directives, each with its sources."""
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives.setdefault(words[0].lower(), words[1:])
    return directives


def policy_problems(response) -> list[str]:
    """Return what is wrong with an HTML response's framing and script policy."""
    header = response.get("Content-Security-Policy")
    if not header:
        return ["no Content-Security-Policy"]
    policy = parse_policy(header)
    problems = []
    scripts = policy.get("script-src", policy.get("default-src"))
    if scripts is None:
        problems.append("no script-src or default-src")
    else:
        bad = [s for s in scripts if s.lower() in FORBIDDEN_SCRIPT_SOURCES]
        if bad:
            problems.append(f"script-src allows {' '.join(bad)}")
    if policy.get("frame-ancestors") != ["'none'"]:
        problems.append(f"frame-ancestors is {policy.get('frame-ancestors')}")
    if policy.get("object-src") != ["'none'"]:
        problems.append(f"object-src is {policy.get('object-src')}")
    if response.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options is {response.get('X-Frame-Options')!r}")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    return problems


def test_it_checks_the_policy_it_is_given() -> None:
    # Guards the walk below: a weak policy is noticed.
    class Fake(dict):
        def get(self, key, default=None):
            return super().get(key, default)

    weak = Fake(
        {
            "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'",
            "X-Frame-Options": "SAMEORIGIN",
        }
    )
    problems = policy_problems(weak)
    assert "script-src allows 'unsafe-inline'" in problems
    assert "frame-ancestors is None" in problems
    assert "X-Frame-Options is 'SAMEORIGIN'" in problems


def test_every_html_page_refuses_inline_script_and_framing(people: dict[str, User]) -> None:
    """GET every URL pattern as every person; every HTML answer carries the policy."""
    ctx = matrix._make_context(people)
    plan = []
    for pattern in matrix.PATTERNS:
        entry = matrix.entry_for(pattern)
        if entry is None or entry.get is None:
            continue
        url = entry.url(ctx) if entry.url else matrix._plain_url(pattern)
        plan.append(url)

    clients: dict[str, Client] = {}
    for person, username in matrix.PERSONS.items():
        client = Client()
        if username:
            client.force_login(
                people[username], backend="django.contrib.auth.backends.ModelBackend"
            )
        clients[person] = client

    failures = []
    html_pages = 0
    for url in plan:
        for person, client in clients.items():
            response = client.get(url, secure=True)
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            html_pages += 1
            problems = policy_problems(response)
            if problems:
                failures.append(f"GET {url} as {person} ({response.status_code}): {problems}")
    assert not failures, "\n  ".join(failures)
    # Most of the URL configuration is pages: the walk did reach them.
    assert html_pages > len(plan)


# --- Templates ---------------------------------------------------------------------------

BASE_DIR = Path(settings.BASE_DIR)
TEMPLATE_ROOTS = [BASE_DIR / "templates", *sorted(BASE_DIR.glob("*/templates"))]
# on<event>= as an attribute inside a tag: onclick=, onload=, onsubmit=...
EVENT_HANDLER = re.compile(r"<[a-zA-Z][^>]*?\son[a-z]+\s*=", re.DOTALL)
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
# Script types browsers don't run: data islands.
DATA_SCRIPT = re.compile(r"type\s*=\s*[\"']application/(ld\+)?json[\"']", re.IGNORECASE)


def page_templates() -> list[Path]:
    """Every HTML template of ours, except emails (never rendered under the site's policy)."""
    return sorted(
        path
        for root in TEMPLATE_ROOTS
        for path in root.rglob("*.html")
        if "email" not in path.relative_to(root).parts[:-1]
        and not path.relative_to(root).parts[-1].startswith("email")
    )


def template_problems(text: str) -> list[str]:
    problems = []
    for match in EVENT_HANDLER.finditer(text):
        problems.append(f"inline event handler: {match.group(0)[-60:]!r}")
    for match in SCRIPT_TAG.finditer(text):
        attributes = match.group(1)
        if "src=" in attributes or "nonce=" in attributes or DATA_SCRIPT.search(attributes):
            continue
        problems.append(f"inline <script> without a nonce: {match.group(0)!r}")
    if re.search(r"(href|src|action)\s*=\s*[\"']\s*javascript:", text, re.IGNORECASE):
        problems.append("javascript: URL")
    if re.search(r"\shx-on(:|-|=)|\shx-vars=|[\"']js:", text):
        problems.append("htmx attribute evaluated as script (hx-on, hx-vars, js:)")
    return problems


def test_it_finds_the_templates() -> None:
    assert len(page_templates()) > 50


def test_it_notices_what_would_break_under_the_policy() -> None:
    assert template_problems('<button onclick="go()">Go</button>')
    assert template_problems("<body\n  onload='x()'>")
    assert template_problems("<script>alert(1)</script>")
    assert template_problems('<a href="javascript:void(0)">x</a>')
    assert template_problems('<div hx-on:click="x()"></div>')
    assert not template_problems('<script src="/static/js/lectern.js" defer></script>')
    assert not template_problems('<script nonce="{{ csp_nonce }}">init()</script>')
    assert not template_problems('<script type="application/json" id="d">{}</script>')
    assert not template_problems("<p>Turn the lights on = off</p>")


def test_templates_have_no_inline_script_or_event_handlers() -> None:
    failures = []
    for path in page_templates():
        for problem in template_problems(path.read_text()):
            failures.append(f"{path.relative_to(settings.BASE_DIR)}: {problem}")
    assert not failures, "\n  ".join(failures)
