"""Every view that takes `next` goes back only to a path on this site, and never fails on it.

A bare word used to reach `redirect()`, which looks it up as a view name and
answered 500 when there was none.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from notifications.tests.kit import make

BAD_NEXT = [
    "foo",
    "logout",
    "dashboard",
    "courses:my_courses",
    "//evil.example/",
    "https://evil.example/",
    "/\\evil.example/",
    "/dashboard/\nSet-Cookie: x=1",
    "/dashboard/\x00",
    "javascript:alert(1)",
]


@dataclass(frozen=True)
class NextView:
    method: str
    url: Callable[[User], str]
    data: dict[str, str]
    fallback: str


VIEWS = {
    "color scheme": NextView(
        "post", lambda bob: reverse("accounts:set_color_scheme"), {"color_scheme": "dark"}, "/"
    ),
    "accept policies": NextView("get", lambda bob: "/policies/accept/", {}, "/dashboard/"),
    "notifications read-all": NextView(
        "post", lambda bob: reverse("notifications:mark_all_read"), {}, "/notifications/"
    ),
    "notification read": NextView(
        "post",
        lambda bob: reverse("notifications:mark_read", args=[make(bob).pk]),
        {},
        "/notifications/",
    ),
}


def follow(view: NextView, client: Client, bob: User, next_url: str):
    data = {**view.data, "next": next_url}
    url = view.url(bob)
    return client.post(url, data) if view.method == "post" else client.get(url, data)


@pytest.mark.parametrize("next_url", BAD_NEXT)
@pytest.mark.parametrize("name", VIEWS)
def test_it_ignores_a_next_that_is_not_a_path_here(
    client_for: Callable[..., Client], bob: User, name: str, next_url: str
) -> None:
    view = VIEWS[name]

    response = follow(view, client_for(bob, raise_request_exception=False), bob, next_url)

    assert response.status_code == 302, response.status_code
    assert urlsplit(response["Location"]).path == view.fallback


@pytest.mark.parametrize("name", VIEWS)
def test_it_follows_a_path_on_this_site(
    client_for: Callable[..., Client], bob: User, name: str
) -> None:
    response = follow(VIEWS[name], client_for(bob), bob, "/courses/?page=2")

    assert response.status_code == 302
    assert response["Location"] == "/courses/?page=2"
