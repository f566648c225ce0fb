"""Every URL pattern, and what each kind of person gets from it.

The matrix names, for each pattern, the outcome for an anonymous visitor, a
student (bob), another teacher (carol), the owner (alice) and staff, and the
test requests the URL as each of them. A pattern without an entry fails the
test, so a new page cannot ship without someone deciding who may see it.

Admin pages generated for a registered ModelAdmin are covered by one rule
(staff only); any other admin URL needs its own entry like every other page.
"""

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.usersessions.models import UserSession
from django.contrib import admin
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.db.models import Model
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import User
from tests.authz import (
    ANON,
    NOT_ALLOWED,
    NOT_FOUND,
    OK,
    OTHER,
    OWNER,
    PERSONS,
    SIGNED_IN,
    STAFF,
    STUDENT,
    TO_DASHBOARD,
    TO_LOGIN,
    Context,
    Entry,
    Expected,
    Outcome,
    everyone,
    guests_only,
    signed_in,
    staff_only,
)

ACCOUNT_ENTRIES: dict[str, Entry] = {
    # Site
    "home": Entry(get=guests_only()),
    "healthz": Entry(get=everyone(OK)),
    # Off unless METRICS_TOKEN is set, and then only for `Authorization: Bearer <token>`
    # (core/tests/test_metrics.py): no session, staff's included, opens it.
    "metrics": Entry(get=everyone(NOT_FOUND), post=everyone(NOT_FOUND)),
    "csrf_token": Entry(get=everyone(OK)),
    "dashboard": Entry(get=signed_in()),
    # Policies
    "terms": Entry(get=everyone(OK)),
    "privacy_policy": Entry(get=everyone(OK)),
    "instructor_agreement": Entry(get=everyone(OK)),
    "community_guidelines": Entry(get=everyone(OK)),
    # Everyone in the fixtures has accepted the current versions already.
    "privacy:accept": Entry(get=signed_in(TO_DASHBOARD)),
    # Settings
    "accounts:profile": Entry(get=signed_in()),
    "accounts:preferences": Entry(get=signed_in()),
    "accounts:sessions": Entry(get=signed_in()),
    # Only alice may end alice's session; for anyone else it does not exist.
    "accounts:end_session": Entry(
        get=signed_in(NOT_ALLOWED),
        post={
            ANON: TO_LOGIN,
            STUDENT: NOT_FOUND,
            OTHER: NOT_FOUND,
            OWNER: Outcome(302, "accounts:sessions"),
            STAFF: NOT_FOUND,
        },
        url=lambda ctx: reverse("accounts:end_session", args=[ctx.alice_other_session.pk]),
    ),
    "accounts:end_other_sessions": Entry(
        get=signed_in(NOT_ALLOWED), post=signed_in(Outcome(302, "accounts:sessions"))
    ),
    "accounts:set_color_scheme": Entry(
        get=everyone(NOT_ALLOWED),
        post=everyone(Outcome(302, "home")),
        data={"color_scheme": "dark"},
    ),
    # Accounts (allauth; our sign-up view wraps allauth's at the same path)
    "account_signup": Entry(get=guests_only()),
    "account_login": Entry(get=guests_only()),
    "account_logout": Entry(
        get={ANON: Outcome(302, "home"), **dict.fromkeys(SIGNED_IN, OK)},
        post=everyone(Outcome(302, "home")),
    ),
    "account_inactive": Entry(get=everyone(OK)),
    "account_reauthenticate": Entry(get=signed_in()),
    "account_email": Entry(get=signed_in()),
    "account_email_verification_sent": Entry(get=everyone(OK)),
    "account_change_password": Entry(get=signed_in()),
    "account_set_password": Entry(get=signed_in(Outcome(302, "account_change_password"))),
    "account_reset_password": Entry(get=everyone(OK)),
    "account_reset_password_done": Entry(get=everyone(OK)),
    "account_reset_password_from_key_done": Entry(get=everyone(OK)),
    # Log-in by code is off: its confirm page sends people back.
    "account_confirm_login_code": Entry(
        get={ANON: Outcome(302, "account_login"), **dict.fromkeys(SIGNED_IN, TO_DASHBOARD)}
    ),
    # A bogus key shows the "this link is invalid or expired" page.
    "account_confirm_email": Entry(
        get=everyone(OK), url=lambda ctx: reverse("account_confirm_email", args=["bogus-key"])
    ),
    "account_reset_password_from_key": Entry(
        get=everyone(OK),
        url=lambda ctx: reverse(
            "account_reset_password_from_key", kwargs={"uidb36": "zz", "key": "bogus-key"}
        ),
    ),
    # Social accounts. Google is not configured in tests: its pages don't exist.
    "socialaccount_login_cancelled": Entry(get=everyone(OK)),
    "socialaccount_login_error": Entry(get=everyone(Outcome(401))),
    "socialaccount_signup": Entry(get=everyone(Outcome(302, "account_login"))),
    "socialaccount_connections": Entry(get=signed_in()),
    "accounts/social/login/cancelled/": Entry(
        get=everyone(Outcome(301, "socialaccount_login_cancelled"))
    ),
    "accounts/social/login/error/": Entry(get=everyone(Outcome(301, "socialaccount_login_error"))),
    "accounts/social/signup/": Entry(get=everyone(Outcome(301, "socialaccount_signup"))),
    "accounts/social/connections/": Entry(get=everyone(Outcome(301, "socialaccount_connections"))),
    "google_login": Entry(get=everyone(NOT_FOUND), post=everyone(NOT_FOUND)),
    "google_callback": Entry(get=everyone(NOT_FOUND)),
    "google_login_by_token": Entry(get=everyone(NOT_FOUND), post=everyone(NOT_FOUND)),
    # allauth's sessions list is shadowed by a redirect to Settings → Sessions.
    "usersessions_list": Entry(get=everyone(Outcome(302, "accounts:sessions"))),
    "accounts/sessions/": Entry(get=everyone(Outcome(302, "accounts:sessions"))),
    # Admin pages that are not generated per model
    "admin:index": Entry(get=staff_only()),
    "admin:login": Entry(
        get={**dict.fromkeys((ANON, STUDENT, OTHER, OWNER), OK), STAFF: Outcome(302, "admin:index")}
    ),
    "admin:logout": Entry(
        get={
            **dict.fromkeys((ANON, STUDENT, OTHER, OWNER), Outcome(302, "admin:index")),
            STAFF: NOT_ALLOWED,
        },
        post={
            **dict.fromkeys((ANON, STUDENT, OTHER, OWNER), Outcome(302, "admin:index")),
            STAFF: OK,
        },
    ),
    "admin:password_change": Entry(get=staff_only()),
    "admin:password_change_done": Entry(get=staff_only()),
    # Without query parameters naming a field, the autocomplete refuses even staff.
    "admin:autocomplete": Entry(get=staff_only(Outcome(403))),
    "admin:jsi18n": Entry(get=staff_only()),
    # Users have no public page to view "on site".
    "admin:view_on_site": Entry(
        get=staff_only(NOT_FOUND),
        url=lambda ctx: reverse(
            "admin:view_on_site", args=[_content_type_id(User), ctx.people["alice"].pk]
        ),
    ),
    "admin:app_list": Entry(
        get=staff_only(), url=lambda ctx: reverse("admin:app_list", args=["accounts"])
    ),
    "admin:auth_user_password_change": Entry(
        get=staff_only(),
        url=lambda ctx: reverse("admin:auth_user_password_change", args=[ctx.people["alice"].pk]),
    ),
    "admin/(?P<url>.*)$": Entry(get=staff_only(NOT_FOUND), url=lambda ctx: "/admin/no-such-page/"),
}


def _area_modules() -> list[ModuleType]:
    """Import every app's `tests/authz*.py`: the entries for that app's pages."""
    root = Path(__file__).resolve().parent.parent
    names = sorted(
        ".".join(path.relative_to(root).with_suffix("").parts)
        for path in root.glob("*/tests/authz*.py")
    )
    return [importlib.import_module(name) for name in names]


AREAS = _area_modules()
MATRIX: dict[str, Entry] = dict(ACCOUNT_ENTRIES)
for _area in AREAS:
    _clash = set(MATRIX) & set(_area.ENTRIES)
    assert not _clash, f"{_area.__name__} repeats matrix entries {sorted(_clash)}"
    MATRIX.update(_area.ENTRIES)


# --- Walking the URL configuration ----------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    route: str
    name: str | None
    view: str = ""  # the view's dotted path

    @property
    def key(self) -> str:
        return self.name or self.route

    def __str__(self) -> str:
        return f"{self.route!r} (name {self.name!r})" if self.name else repr(self.route)


def _walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Pattern]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield Pattern(prefix + str(pattern.pattern), name, pattern.lookup_str)


def all_patterns() -> list[Pattern]:
    seen: dict[str, Pattern] = {}
    for pattern in _walk(get_resolver().url_patterns):
        seen.setdefault(pattern.key, pattern)
    return list(seen.values())


# --- The generated admin pages: one rule for every registered model -------------------------

_ADMIN_ACTIONS = ("changelist", "add", "history", "delete", "change")


def _content_type_id(model: type[Model]) -> int:
    return ContentType.objects.get_for_model(model).pk


def _model_admin_page(pattern: Pattern) -> tuple[type[Model], str] | None:
    """Return (model, action) when the pattern is a page the admin generates for a model."""
    for model in admin.site._registry:
        opts = model._meta
        base = f"admin:{opts.app_label}_{opts.model_name}_"
        if pattern.name and pattern.name.startswith(base):
            action = pattern.name.removeprefix(base)
            if action in _ADMIN_ACTIONS:
                return model, action
        object_route = f"admin/{opts.app_label}/{opts.model_name}/<path:object_id>/"
        if not pattern.name and pattern.route == object_route:
            return model, "object"
    return None


def _admin_refuses_adding(model: type[Model]) -> bool:
    """Say whether the model's admin refuses "add" even to a superuser."""
    return not admin.site._registry[model].has_add_permission(_superuser_request())


def _admin_refuses_deleting(model: type[Model]) -> bool:
    """Say whether the model's admin refuses "delete" even to a superuser."""
    return not admin.site._registry[model].has_delete_permission(_superuser_request())


def _superuser_request() -> Any:
    request = RequestFactory().get("/")
    request.user = User(is_staff=True, is_superuser=True, is_active=True)
    return request


def _model_admin_entry(model: type[Model], action: str) -> Entry:
    """Staff only. Pages about one object use the first one; with none, staff go to the index."""
    prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    if action == "add" and _admin_refuses_adding(model):
        # Rows only the app's own services write (purchases, webhook events): staff look only.
        return Entry(get=staff_only(Outcome(403)), url=lambda ctx: reverse(f"{prefix}_add"))
    if action in ("changelist", "add"):
        return Entry(get=staff_only(), url=lambda ctx: reverse(f"{prefix}_{action}"))

    def url(ctx: Context) -> str:
        obj = model._default_manager.order_by("pk").first()
        change = reverse(f"{prefix}_change", args=[obj.pk if obj is not None else 0])
        if action == "object":
            return change.removesuffix("change/")
        return change.removesuffix("change/") + f"{action}/"

    if action == "delete" and _admin_refuses_deleting(model):
        # Rows only the app's own services remove (totals, audit lists): refused, found or not.
        return Entry(get=staff_only(Outcome(403)), url=url)

    def for_staff(ctx: Context) -> Outcome:
        if action == "object":  # a plain redirect to the change page, object or not
            return Outcome(302, url(ctx) + "change/")
        return OK if model._default_manager.exists() else Outcome(302, "admin:index")

    return Entry(get=staff_only(for_staff), url=url)


def entry_for(pattern: Pattern) -> Entry | None:
    if pattern.key in MATRIX:
        return MATRIX[pattern.key]
    generated = _model_admin_page(pattern)
    return _model_admin_entry(*generated) if generated else None


# --- Requesting every URL as every person ----------------------------------------------------


def _target_path(to: str) -> str:
    return to if to.startswith("/") else reverse(to)


def _check(response: Any, expected: Outcome, url: str) -> str | None:
    """Return what is wrong with `response`, or None."""
    if response.status_code != expected.status:
        where = f" → {response.get('Location')}" if response.has_header("Location") else ""
        return f"got {response.status_code}{where}, expected {expected}"
    if expected.to is not None:
        location = urlsplit(response["Location"])
        target = _target_path(expected.to)
        if location.path != target:
            return f"redirected to {response['Location']}, expected {target}"
        if expected.to in ("account_login", "admin:login") and expected.status == 302:
            sent_back = parse_qs(location.query).get("next", [""])[0]
            if sent_back and urlsplit(sent_back).path != urlsplit(url).path:
                return f"log-in would return to {sent_back}, expected {url}"
    return None


def _make_context(people: dict[str, User]) -> Context:
    """Give alice a second, live session elsewhere, for the pages that end sessions."""
    alice = people["alice"]
    store = SessionStore()
    store[SESSION_KEY] = str(alice.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = alice.get_session_auth_hash()
    store.create()
    other = UserSession.objects.create(
        user=alice, session_key=store.session_key, ip="198.51.100.7", user_agent="Firefox"
    )
    ctx = Context(people=people, alice_other_session=other)
    for area in AREAS:
        if hasattr(area, "build"):
            area.build(ctx)
    return ctx


def _plain_url(pattern: Pattern) -> str:
    """Return the URL of a pattern that takes no arguments."""
    if pattern.name:
        return reverse(pattern.name)
    assert not set("<>()^$?*+[]\\") & set(pattern.route), (
        f"{pattern} takes arguments: give its matrix entry a `url`"
    )
    return "/" + pattern.route


def _resolve(expected: Expected, ctx: Context) -> Outcome:
    return expected(ctx) if callable(expected) else expected


PATTERNS = all_patterns()


def test_it_has_an_entry_for_every_url_pattern() -> None:
    missing = [str(p) for p in PATTERNS if entry_for(p) is None]
    assert not missing, (
        "These URL patterns have no entry in tests/test_authorization_matrix.py — "
        "add one saying what anonymous / student / other teacher / owner / staff get:\n  "
        + "\n  ".join(missing)
    )


def test_it_notices_a_pattern_nobody_has_decided_about() -> None:
    assert entry_for(Pattern("nowhere/<slug:slug>/", "nowhere:detail")) is None
    # Only the pages the admin generates per model are covered by the admin rule.
    assert entry_for(Pattern("admin/accounts/user/<id>/impersonate/", "admin:impersonate")) is None
    assert entry_for(Pattern("admin/accounts/user/", "admin:accounts_user_changelist"))


def test_it_has_no_entry_for_a_pattern_that_is_gone() -> None:
    keys = {p.key for p in PATTERNS}
    stale = sorted(set(MATRIX) - keys)
    assert not stale, f"Matrix entries for URL patterns that no longer exist: {stale}"


def test_it_states_every_person_for_every_entry() -> None:
    for key, entry in MATRIX.items():
        assert entry.get or entry.post, f"{key}: no method to request"
        for method, expect in (("GET", entry.get), ("POST", entry.post)):
            if expect is not None:
                assert set(expect) == set(PERSONS), f"{key} {method}: persons {sorted(expect)}"


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.key)
def test_it_answers_each_person_as_the_matrix_says(
    pattern: Pattern, people: dict[str, User]
) -> None:
    entry = entry_for(pattern)
    assert entry is not None, (
        f"No authorization-matrix entry for URL pattern {pattern}: "
        "add one to tests/test_authorization_matrix.py"
    )
    ctx = _make_context(people)
    # Build every URL and outcome first: the requests themselves create rows.
    plan = []
    for method, expect in (("get", entry.get), ("post", entry.post)):
        for person, username in PERSONS.items():
            if expect is None:
                continue
            url = entry.url(ctx) if entry.url else _plain_url(pattern)
            plan.append((method, person, username, url, _resolve(expect[person], ctx)))
    failures = []
    for method, person, username, url, expected in plan:
        client = Client()
        if username:
            client.force_login(
                people[username], backend="django.contrib.auth.backends.ModelBackend"
            )
        request = client.post if method == "post" else client.get
        response = request(url, entry.data) if method == "post" else request(url)
        problem = _check(response, expected, url)
        if problem:
            failures.append(f"{method.upper()} {url} as {person}: {problem}")
    assert not failures, f"{pattern}:\n  " + "\n  ".join(failures)
