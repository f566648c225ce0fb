"""Template filters shared by every page."""

import datetime
import functools
import ipaddress
from typing import Any

from django import template
from django.utils import timezone
from django.utils.timesince import timesince
from django_countries import countries
from ua_parser import parse

register = template.Library()


@functools.lru_cache(maxsize=512)
def _summarise(user_agent: str) -> str:
    result = parse(user_agent)
    browser = result.user_agent
    system = result.os
    name = ""
    if browser is not None and browser.family != "Other":
        name = f"{browser.family} {browser.major}" if browser.major else browser.family
    os_name = system.family if system is not None and system.family != "Other" else ""
    if name and os_name:
        return f"{name} on {os_name}"
    return name or os_name or "Unknown browser"


@register.filter
def user_agent_summary(user_agent: str | None) -> str:
    """Return "Browser version on OS" for a User-Agent header, e.g. "Chrome 156 on Linux"."""
    if not user_agent:
        return "Unknown browser"
    # Headers are attacker-controlled; parsing a capped prefix keeps the cost bounded.
    return _summarise(str(user_agent)[:512])


@register.filter
def truncate_ip(value: str | None) -> str:
    """Return an address with its host part hidden: 203.0.113.x, or the /48 prefix for IPv6."""
    if not value:
        return ""
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        return ".".join(str(address).split(".")[:3]) + ".x"
    network = ipaddress.ip_network(f"{address}/48", strict=False)
    return str(network)


@register.filter
def bound_field(form: Any, name: str) -> Any:
    """Return the form's field called `name` (for names a template can't spell, like a-b)."""
    try:
        return form[name]
    except KeyError:
        return None


@functools.lru_cache(maxsize=512)
def _is_mobile(user_agent: str) -> bool:
    result = parse(user_agent)
    os_family = result.os.family if result.os is not None else ""
    return os_family in {"iOS", "iPadOS", "Android"} or "Mobile" in user_agent


@register.filter
def user_agent_is_mobile(user_agent: str | None) -> bool:
    """Say whether a User-Agent header looks like a phone or tablet."""
    if not user_agent:
        return False
    return _is_mobile(str(user_agent)[:512])


@register.filter
def country_name(code: str | None) -> str:
    """Return the English name of a two-letter country code, or the code itself."""
    if not code:
        return ""
    return str(countries.name(str(code).upper())) or str(code).upper()


@register.filter
def time_ago(value: datetime.datetime | None) -> str:
    """Return "just now" under a minute, else e.g. "5 minutes ago"."""
    if not value:
        return ""
    if (timezone.now() - value).total_seconds() < 60:
        return "just now"
    return f"{timesince(value)} ago"


@register.filter
def timezone_label(name: str | None) -> str:
    """Return an IANA time zone name for reading, e.g. "America/New York"."""
    return (name or "UTC").replace("_", " ")
