"""Template filters shared by every page."""

import functools
import ipaddress

from django import template
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
