"""Who may sign up: country of the request, email domain and age."""

from disposable_email_domains import blocklist
from django.conf import settings
from django.http import HttpRequest

# EU member states plus Iceland, Liechtenstein and Norway: 16 is the minimum age there.
EEA_COUNTRIES = frozenset(
    ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT"),
) | frozenset(
    ("LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO"),
)
MINIMUM_AGE = 13
MINIMUM_AGE_EEA = 16


def request_country(request: HttpRequest) -> str:
    """Return the two-letter country the trusted edge header names, or ''."""
    header = settings.COUNTRY_HEADER.upper().replace("-", "_")
    value = request.META.get(f"HTTP_{header}", "").strip().upper()
    return value if len(value) == 2 and value.isalpha() else ""


def blocked_signup_country(request: HttpRequest) -> str:
    """Return the request's country when sign-up is refused there, else ''."""
    country = request_country(request)
    return country if country in settings.BLOCKED_SIGNUP_COUNTRIES else ""


def is_disposable_email(email: str) -> bool:
    """Say whether the address belongs to a throwaway-mail domain (or a subdomain of one)."""
    domain = email.rsplit("@", 1)[-1].strip().lower()
    allowed = set(settings.DISPOSABLE_EMAIL_ALLOWLIST)
    parts = domain.split(".")
    candidates = {".".join(parts[i:]) for i in range(len(parts) - 1)}
    if candidates & allowed:
        return False
    return bool(candidates & blocklist)


def minimum_age(country: str) -> int:
    return MINIMUM_AGE_EEA if country.upper() in EEA_COUNTRIES else MINIMUM_AGE
