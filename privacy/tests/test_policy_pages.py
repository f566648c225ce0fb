"""The privacy policy's generated sections, and the subprocessors and cookies pages."""

from html import unescape

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from privacy import cookies, documents, subprocessors
from privacy.registry import registry


def _source(slug: str) -> str:
    return (documents.POLICY_DIR / f"{slug}.md").read_text(encoding="utf-8")


@pytest.mark.django_db
def test_it_lists_every_category_with_its_purpose_and_legal_basis(client: Client) -> None:
    assert documents.CATEGORIES_MARKER in _source("privacy")
    html = unescape(client.get(reverse("privacy_policy")).content.decode())
    for entry in registry:
        assert (entry.purpose) in html, entry.label
        assert (entry.basis.explanation) in html, entry.label


@pytest.mark.django_db
def test_it_says_what_deleting_an_account_does_to_each_category(client: Client) -> None:
    assert documents.ERASURE_MARKER in _source("privacy")
    html = unescape(client.get(reverse("privacy_policy")).content.decode())
    assert "When you delete your account" in html
    for entry in registry:
        assert (entry.on_erasure) in html, entry.label


@pytest.mark.django_db
def test_it_lists_the_standalone_retention_rules(client: Client) -> None:
    html = unescape(client.get(reverse("privacy_policy")).content.decode())
    assert registry.rules
    for rule in registry.rules.values():
        assert (rule.name) in html
        assert (rule.retention.description) in html


def test_it_leaves_no_marker_in_the_served_text() -> None:
    text = documents.documents()["privacy"].text
    for marker in documents.GENERATED_SECTIONS:
        assert marker not in text


def test_it_escapes_pipes_so_generated_tables_keep_their_columns() -> None:
    assert documents._cell("a | b\nc") == "a \\| b c"


@pytest.mark.django_db
def test_it_links_the_subprocessors_and_cookies_pages_from_the_policy_and_footer(
    client: Client,
) -> None:
    policy = client.get(reverse("privacy_policy")).content.decode()
    assert 'href="/subprocessors/"' in policy
    assert 'href="/cookies/"' in policy
    terms = client.get(reverse("terms")).content.decode()
    footer = terms[terms.index('class="site-footer"') :]
    assert f'href="{reverse("subprocessors")}"' in footer
    assert f'href="{reverse("cookies")}"' in footer


# --- Subprocessors -------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(
    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    AWS_STORAGE_BUCKET_NAME=None,
    SENTRY_DSN="",
    GOOGLE_CLIENT_ID="",
    LIVEKIT_URL="",
)
def test_it_says_when_no_outside_service_is_configured(client: Client) -> None:
    response = client.get(reverse("subprocessors"))
    assert response.status_code == 200
    assert response.context["subprocessors"] == []
    assert "No outside services configured" in response.content.decode()


@pytest.mark.django_db
@override_settings(
    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST="smtp.example.net",
    EMAIL_PORT=587,
    AWS_STORAGE_BUCKET_NAME="lectern-files",
    AWS_S3_ENDPOINT_URL="https://s3.example.net",
    SENTRY_DSN="https://key@sentry.example.net/1",
    GOOGLE_CLIENT_ID="client-id.apps.googleusercontent.com",
)
def test_it_lists_each_configured_service_with_what_it_receives(client: Client) -> None:
    html = unescape(client.get(reverse("subprocessors")).content.decode())
    for name in ("Email server", "S3-compatible object storage", "Sentry", "Google"):
        assert name in html
    assert "smtp.example.net:587" in html
    assert "lectern-files" in html
    for sub in subprocessors.configured():
        assert (sub.receives) in html
        assert (sub.why) in html
    assert "Mailgun" not in html


@override_settings(
    LIVEKIT_URL="wss://live.example.net",
    LIVEKIT_API_KEY="APIkey",
    LIVEKIT_API_SECRET="a-secret-of-at-least-thirty-two-bytes",
)
def test_it_names_the_livekit_server_only_once_live_classes_are_set_up() -> None:
    livekit = next(s for s in subprocessors.configured() if s.name == "LiveKit server")
    assert livekit.detail() == "live.example.net"
    with override_settings(LIVEKIT_API_SECRET=""):
        assert "LiveKit server" not in [s.name for s in subprocessors.configured()]


@override_settings(EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend")
def test_it_names_mailgun_when_email_goes_through_it() -> None:
    names = [s.name for s in subprocessors.configured()]
    assert "Mailgun" in names
    assert "Email server" not in names


# --- Cookies -------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_lists_every_declared_cookie(client: Client) -> None:
    response = client.get(reverse("cookies"))
    assert response.status_code == 200
    html = unescape(response.content.decode())
    for cookie in cookies.declared():
        assert f"<code>{cookie.name}</code>" in html
        assert (cookie.purpose) in html
        assert (cookie.lifetime) in html


@override_settings(SESSION_COOKIE_NAME="lectern_session", SESSION_COOKIE_AGE=30 * 24 * 3600)
def test_it_takes_configurable_names_and_lifetimes_from_settings() -> None:
    session = next(c for c in cookies.declared() if c.name == "lectern_session")
    assert session.lifetime.startswith("30 days")


@override_settings(MESSAGE_STORAGE="django.contrib.messages.storage.session.SessionStorage")
def test_it_leaves_out_the_messages_cookie_when_messages_live_in_the_session() -> None:
    assert "messages" not in cookies.declared_names()


@pytest.mark.parametrize("url", ["/subprocessors/", "/cookies/"])
@pytest.mark.django_db
def test_it_rejects_post_on_the_listing_pages(client: Client, url: str) -> None:
    assert client.post(url).status_code == 405
