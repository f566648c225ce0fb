"""Google sign-in: absent unless configured; the full OAuth flow with Google's HTTP replaced."""

import time
import uuid
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import responses
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from accounts.tests.kit import page_text
from privacy import documents
from privacy.models import PolicyAcceptance

pytestmark = pytest.mark.django_db

CLIENT_ID = "lectern-test.apps.googleusercontent.com"
GOOGLE_AUTHORIZE = "https://accounts.google.com/o/oauth2/v2/auth"
GOOGLE_TOKEN = "https://oauth2.googleapis.com/token"
GOOGLE_USERINFO = "https://www.googleapis.com/oauth2/v2/userinfo"
GOOGLE_UID = "109876543210987654321"
PICTURE = "https://lh3.googleusercontent.com/a/ada-picture"

google_configured = override_settings(
    GOOGLE_SIGN_IN_ENABLED=True,
    SOCIALACCOUNT_PROVIDERS={
        "google": {
            **settings.SOCIALACCOUNT_PROVIDERS["google"],
            "APPS": [{"client_id": CLIENT_ID, "secret": "test-client-secret", "key": ""}],
        }
    },
)


def id_token(**claims: object) -> str:
    """Return an id_token as Google issues it (fetched directly, so its signature isn't checked)."""
    now = int(time.time())
    payload = {
        "iss": "https://accounts.google.com",
        "aud": CLIENT_ID,
        "sub": GOOGLE_UID,
        "email": "ada@gmail.example",
        "email_verified": True,
        "name": "Ada Lovelace",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "iat": now,
        "exp": now + 3600,
        "jti": uuid.uuid4().hex,
        **claims,
    }
    return jwt.encode(payload, "not-google's-key-" + "x" * 32, algorithm="HS256")


def google_answers(mock: responses.RequestsMock, **claims: object) -> None:
    """Stand in for Google's token and userinfo endpoints."""
    mock.add(
        responses.POST,
        GOOGLE_TOKEN,
        json={
            "access_token": "ya29.test-access-token",
            "expires_in": 3599,
            "token_type": "Bearer",
            "scope": "openid https://www.googleapis.com/auth/userinfo.email",
            "id_token": id_token(**claims),
        },
    )
    mock.add(
        responses.GET,
        GOOGLE_USERINFO,
        json={
            "id": GOOGLE_UID,
            "email": "ada@gmail.example",
            "verified_email": True,
            "name": "Ada Lovelace",
            "given_name": "Ada",
            "family_name": "Lovelace",
            "picture": PICTURE,
        },
    )


def start_google_login(client: Client) -> str:
    """Press the Google button; return the state Google would hand back."""
    response = client.post(reverse("google_login"))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == GOOGLE_AUTHORIZE
    query = parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID]
    redirect_uri = urlsplit(query["redirect_uri"][0])
    assert (redirect_uri.netloc, redirect_uri.path) == ("testserver", reverse("google_callback"))
    assert "email" in query["scope"][0]
    return query["state"][0]


def social_signup_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "email": "ada@gmail.example",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "role": "teacher",
        "organisation_name": "Analytical Engines",
        "country": "GB",
        "age_band": "16plus",
        **{f"accept_{doc.slug}": "on" for doc in documents.documents().values()},
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Not configured -----------------------------------------------------------------------


def test_it_shows_no_google_button_when_google_is_not_configured(client: Client) -> None:
    for page in (reverse("account_login"), reverse("account_signup")):
        response = client.get(page)
        assert response.status_code == 200
        assert not response.context["google_sign_in_enabled"]
        assert "/accounts/google/" not in page_text(response)
        assert "Google" not in page_text(response)


@pytest.mark.parametrize("path", ["/accounts/google/login/", "/accounts/google/login/callback/"])
def test_it_has_no_google_pages_when_google_is_not_configured(client: Client, path: str) -> None:
    assert client.get(path).status_code == 404
    assert client.post(path).status_code == 404
    assert client.get(path, {"code": "abc", "state": "xyz"}).status_code == 404


# --- Configured ---------------------------------------------------------------------------


@google_configured
def test_it_shows_the_google_button_when_configured(client: Client) -> None:
    response = client.get(reverse("account_login"))

    assert response.context["google_sign_in_enabled"]
    assert reverse("google_login") in page_text(response)


@google_configured
def test_it_signs_up_with_google_after_asking_role_age_and_policies(client: Client) -> None:
    state = start_google_login(client)

    with responses.RequestsMock() as google:
        google_answers(google)
        callback = client.get(reverse("google_callback"), {"code": "4/test-code", "state": state})
        token_call = google.calls[0].request
        assert "code=4%2Ftest-code" in str(token_call.body)
        assert "client_secret=test-client-secret" in str(token_call.body)

    # With SOCIALACCOUNT_AUTO_SIGNUP off, Google users still answer our questions first.
    assert callback.status_code == 302
    assert callback["Location"] == reverse("socialaccount_signup")
    assert not User.objects.filter(email="ada@gmail.example").exists()

    form_page = client.get(reverse("socialaccount_signup"))
    assert form_page.status_code == 200
    form = form_page.context["form"]
    for name in ("role", "age_band", "country", "accept_terms", "accept_privacy"):
        assert name in form.fields
    assert form.initial["email"] == "ada@gmail.example"

    done = client.post(reverse("socialaccount_signup"), social_signup_data())

    assert done.status_code == 302
    assert done["Location"] == reverse("onboarding:welcome")
    user = User.objects.get(email="ada@gmail.example")
    assert (user.first_name, user.last_name) == ("Ada", "Lovelace")
    assert user.is_teacher
    assert user.organisation_name == "Analytical Engines"
    assert not user.has_usable_password()
    account = SocialAccount.objects.get(user=user)
    assert account.provider == "google"
    assert account.uid == GOOGLE_UID
    assert account.extra_data["email"] == "ada@gmail.example"
    assert account.extra_data["name"] == "Ada Lovelace"
    assert account.extra_data["picture"] == PICTURE
    assert account.get_avatar_url() == PICTURE
    assert EmailAddress.objects.get(user=user).verified  # Google vouched for it
    accepted = dict(PolicyAcceptance.objects.filter(user=user).values_list("document", "sha256"))
    assert accepted == {doc.slug: doc.sha256 for doc in documents.required_for(user)}
    assert client.get(reverse("dashboard")).status_code == 200


@google_configured
def test_it_refuses_a_google_sign_up_without_the_policies_or_under_age(client: Client) -> None:
    state = start_google_login(client)
    with responses.RequestsMock() as google:
        google_answers(google)
        client.get(reverse("google_callback"), {"code": "4/test-code", "state": state})

    response = client.post(
        reverse("socialaccount_signup"),
        social_signup_data(accept_terms=None, age_band="13to15", country="DE"),
    )

    assert response.status_code == 400
    text = page_text(response)
    assert "Please accept the Terms of Service" in text
    assert "at least 16" in text
    assert not User.objects.filter(email="ada@gmail.example").exists()
    assert not SocialAccount.objects.exists()


@google_configured
def test_it_logs_a_returning_google_user_straight_in(client: Client) -> None:
    state = start_google_login(client)
    with responses.RequestsMock() as google:
        google_answers(google)
        client.get(reverse("google_callback"), {"code": "4/first", "state": state})
    client.post(reverse("socialaccount_signup"), social_signup_data())

    again = Client()
    state = start_google_login(again)
    with responses.RequestsMock() as google:
        google_answers(google)
        response = again.get(reverse("google_callback"), {"code": "4/second", "state": state})

    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard")
    assert User.objects.filter(email="ada@gmail.example").count() == 1


@google_configured
def test_it_refuses_a_callback_with_a_forged_state(client: Client) -> None:
    start_google_login(client)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as google:
        google_answers(google)
        response = client.get(reverse("google_callback"), {"code": "4/x", "state": "forged"})
        assert not google.calls  # no code is exchanged for a state we didn't issue

    assert response.status_code in (400, 401, 403)
    assert not SocialAccount.objects.exists()


@google_configured
def test_it_refuses_an_id_token_for_another_app(client: Client) -> None:
    state = start_google_login(client)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as google:
        google_answers(google, aud="someone-elses-app.apps.googleusercontent.com")
        response = client.get(reverse("google_callback"), {"code": "4/x", "state": state})

    assert response.status_code in (400, 401, 403)
    assert not User.objects.filter(email="ada@gmail.example").exists()


@google_configured
def test_it_refuses_google_sign_up_from_a_blocked_country(client: Client) -> None:
    state = start_google_login(client)

    with responses.RequestsMock() as google:
        google_answers(google)
        response = client.get(
            reverse("google_callback"),
            {"code": "4/x", "state": state},
            HTTP_CF_IPCOUNTRY="KP",
        )

    assert response.status_code == 403
    assert response.context["blocked_country"] == "KP"
    assert not User.objects.filter(email="ada@gmail.example").exists()
    assert not SocialAccount.objects.exists()
