from typing import Any

from django.conf import settings
from django.http import HttpRequest

_SCHEMES = {"light", "dark", "system"}


def site(request: HttpRequest) -> dict[str, Any]:
    """Expose what every page needs: the colour scheme for first paint and site facts."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        scheme = user.color_scheme
    else:
        scheme = request.COOKIES.get("color_scheme", "system")
    return {
        "SITE_NAME": settings.SITE_NAME,
        "color_scheme": scheme if scheme in _SCHEMES else "system",
        "google_sign_in_enabled": settings.GOOGLE_SIGN_IN_ENABLED,
    }
