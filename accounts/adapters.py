import uuid
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django import forms
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.mail import EmailMessage
from django.http import Http404, HttpRequest

from accounts import signup_rules, views
from core.ratelimit import client_ip, retry_after_for_actions, too_many_requests
from outbox import services as outbox


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return not signup_rules.blocked_signup_country(request)

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email).strip().lower()
        if signup_rules.is_disposable_email(email):
            raise forms.ValidationError(
                "Addresses from throwaway-mail services can't be used on Lectern. "
                "Please use an address you'll keep, so you can receive course updates "
                "and recover your account.",
                code="disposable_email",
            )
        return email

    def render_mail(
        self,
        template_prefix: str,
        email: str | list[str],
        context: dict[str, Any],
        headers: dict[str, str] | None = None,
    ) -> EmailMessage:
        """Point every link, and the site's name, at SITE_URL.

        allauth builds its links from the request's host, and any port of an
        allowed host name reaches the app: an email must not send its reader
        (and its key) to an address someone else chose.
        """
        request = context.get("request")
        host = request.get_host() if isinstance(request, HttpRequest) else None
        context = {
            key: _on_site(value, host) if host and isinstance(value, str) else value
            for key, value in context.items()
        }
        context["current_site"] = SimpleNamespace(
            domain=urlsplit(settings.SITE_URL).netloc, name=settings.SITE_NAME
        )
        return super().render_mail(template_prefix, email, context, headers)

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """Count failed log-ins per account, whatever host name or port the request used.

        allauth's own key starts with the request's host, port included, so
        naming another port of an allowed host would start a fresh count.
        """
        login = credentials.get("email", credentials.get("username", ""))
        return f"{urlsplit(settings.SITE_URL).netloc}:{str(login).lower()}"

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Render allauth's email as allauth does, and queue it in the outbox.

        A mail outage then never fails a sign-up, a password reset or a change
        of address: the email waits and is sent when the service is back. Each
        call is its own email (asking twice for a reset link sends two), so the
        key is unique to the call rather than derived from a record.
        """
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        name = template_prefix.rsplit("/", 1)[-1]
        outbox.enqueue_email(key=f"account-{name}:{uuid.uuid4().hex}", message=message)

    def get_client_ip(self, request: HttpRequest) -> str:
        """Key allauth's limits on the same address as ours, never failing for want of one."""
        return client_ip(request)

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Answer too many failed log-ins with the 429 page, not a form error."""
        try:
            super().pre_authenticate(request, **credentials)
        except forms.ValidationError as error:
            if error.code != "too_many_login_attempts":
                raise
            retry_after = retry_after_for_actions("login_failed")
            raise ImmediateHttpResponse(too_many_requests(request, retry_after)) from error


def _on_site(value: str, request_host: str) -> str:
    """Return `value` on SITE_URL when it is a link to the request's own host."""
    link = urlsplit(value)
    if link.scheme not in ("http", "https") or link.netloc != request_host:
        return value
    site = urlsplit(settings.SITE_URL)
    path = site.path.rstrip("/") + link.path
    return urlunsplit((site.scheme, site.netloc, path, link.query, link.fragment))


class ProviderNotConfigured(Http404, SocialApp.DoesNotExist):
    """No app is configured for a provider: its pages don't exist (404), they don't fail."""


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        """Refuse blocked countries with the same page, and 403, as the email sign-up."""
        country = signup_rules.blocked_signup_country(request)
        if country:
            raise ImmediateHttpResponse(views.signup_closed(request, country))
        return True

    def get_app(self, request: HttpRequest, provider: str, client_id: str | None = None) -> Any:
        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise ProviderNotConfigured(f"Sign-in with {provider} is not set up.") from None
