from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django import forms
from django.http import HttpRequest

from accounts import signup_rules
from core.ratelimit import client_ip


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

    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request)


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        return not signup_rules.blocked_signup_country(request)
