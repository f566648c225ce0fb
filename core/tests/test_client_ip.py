"""The client address that rate limits key on: forged X-Forwarded-For values change nothing."""

import pytest
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.test import RequestFactory, override_settings

from core.ratelimit import client_ip


def trusted_proxies(count: int) -> override_settings:
    """Run with `count` proxies of ours in front, for our limits and allauth's alike."""
    return override_settings(TRUSTED_PROXY_COUNT=count, ALLAUTH_TRUSTED_PROXY_COUNT=count)


def request_from(remote_addr: str, forwarded_for: str | None = None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote_addr, headers=headers)


def test_it_configures_allauth_with_the_same_number_of_proxies() -> None:
    assert settings.ALLAUTH_TRUSTED_PROXY_COUNT == settings.TRUSTED_PROXY_COUNT


def test_it_trusts_no_proxy_by_default() -> None:
    assert settings.TRUSTED_PROXY_COUNT == 0


@trusted_proxies(0)
def test_it_uses_the_socket_address_without_trusted_proxies() -> None:
    assert client_ip(request_from("203.0.113.5")) == "203.0.113.5"


@trusted_proxies(0)
@override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https"))
def test_it_ignores_a_forged_forwarded_for_without_trusted_proxies() -> None:
    request = request_from("203.0.113.5", "198.51.100.1, 198.51.100.2")

    assert client_ip(request) == "203.0.113.5"


@trusted_proxies(1)
def test_it_takes_the_address_our_one_proxy_saw() -> None:
    # The client wrote "198.51.100.1"; our proxy appended the address it saw.
    request = request_from("10.0.0.2", "198.51.100.1, 203.0.113.5")

    assert client_ip(request) == "203.0.113.5"


@trusted_proxies(2)
def test_it_takes_the_right_most_untrusted_address_behind_two_proxies() -> None:
    request = request_from("10.0.0.3", "198.51.100.1, 203.0.113.5, 10.0.0.2")

    assert client_ip(request) == "203.0.113.5"


@trusted_proxies(1)
def test_it_uses_the_socket_address_when_no_proxy_forwarded_anything() -> None:
    assert client_ip(request_from("203.0.113.5")) == "203.0.113.5"


@trusted_proxies(3)
def test_it_uses_the_socket_address_when_the_chain_is_shorter_than_the_proxies() -> None:
    assert client_ip(request_from("203.0.113.5", "198.51.100.1")) == "203.0.113.5"


@trusted_proxies(1)
def test_it_drops_a_port_and_normalises_the_address() -> None:
    assert client_ip(request_from("10.0.0.2", "[2001:DB8::1]:4711")) == "2001:db8::1"


@trusted_proxies(1)
def test_it_names_no_address_when_the_proxy_sent_garbage() -> None:
    assert client_ip(request_from("10.0.0.2", "not-an-address")) == "unknown"


@pytest.mark.parametrize("count", [0, 1, 2])
def test_it_gives_allauth_the_same_address(count: int) -> None:
    request = request_from("10.0.0.3", "198.51.100.1, 203.0.113.5, 10.0.0.2")

    with trusted_proxies(count):
        assert get_adapter(request).get_client_ip(request) == client_ip(request)
