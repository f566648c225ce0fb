"""Fixed-window rate limits over the cache, and the 429 page that reports them."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.test import Client, RequestFactory
from django.urls import reverse

from core import ratelimit
from core.ratelimit import Limit, hit


def stored_counters(action: str) -> Iterator[tuple[str, float]]:
    """Yield each stored counter of `action` with the seconds it has left to live."""

    # The cache API has no way to list keys or read a TTL, so ask the backend's
    # own bookkeeping (local memory) or the Redis server directly.
    backend = caches["default"]
    if isinstance(backend, LocMemCache):
        locmem: Any = backend
        now = time.time()
        for key, expires in list(locmem._expire_info.items()):
            if f"rl:{action}:" in key and not locmem._has_expired(key):
                yield key, expires - now
    elif isinstance(backend, RedisCache):
        client = backend._cache.get_client()
        for key in client.scan_iter(match=f"*rl:{action}:*"):
            ttl_ms = client.pttl(key)
            if ttl_ms > 0:
                yield key.decode(), ttl_ms / 1000
    else:  # pragma: no cover - the settings only choose one of the two
        pytest.fail(f"no way to inspect {type(backend).__name__}")


def wait_for_next_window(window: int) -> None:
    """Sleep until a fresh window has started (never more than `window` seconds)."""
    now = time.time()
    time.sleep(window - now % window + 0.05)


def test_it_allows_the_limit_then_refuses() -> None:
    limit = Limit("test-burst", count=3, window=60)

    verdicts = [hit(limit, "203.0.113.7") for _ in range(4)]

    assert [v.allowed for v in verdicts] == [True, True, True, False]


def test_it_counts_each_key_separately() -> None:
    limit = Limit("test-keys", count=1, window=60)

    assert hit(limit, "alice@example.com").allowed
    assert not hit(limit, "alice@example.com").allowed
    assert hit(limit, "bob@example.com").allowed


def test_it_counts_each_action_separately() -> None:
    assert hit(Limit("test-a", count=1, window=60), "k").allowed
    assert hit(Limit("test-b", count=1, window=60), "k").allowed


def test_it_says_to_retry_within_the_window() -> None:
    limit = Limit("test-retry", count=1, window=60)
    hit(limit, "k")

    verdict = hit(limit, "k")

    assert not verdict.allowed
    assert 1 <= verdict.retry_after <= 60


def test_it_allows_again_once_a_new_window_starts() -> None:
    limit = Limit("test-reset", count=1, window=1)
    wait_for_next_window(1)  # start at a window's beginning, so both hits share it
    assert hit(limit, "k").allowed
    refused = hit(limit, "k")
    assert not refused.allowed

    time.sleep(refused.retry_after + 0.05)

    assert hit(limit, "k").allowed


def test_it_stores_counters_that_expire_with_their_window() -> None:
    limit = Limit("test-expiry", count=5, window=2)
    wait_for_next_window(2)
    hit(limit, "k")
    hit(limit, "k")

    [(_, seconds_left)] = list(stored_counters("test-expiry"))
    assert 0 < seconds_left <= 2

    time.sleep(seconds_left + 0.1)

    assert list(stored_counters("test-expiry")) == []


@pytest.mark.django_db
def test_it_renders_a_429_page_that_says_when_to_retry(rf: RequestFactory) -> None:
    request = rf.get("/somewhere/")

    response = ratelimit.too_many_requests(request, retry_after=90)

    assert response.status_code == 429
    assert response["Retry-After"] == "90"
    assert "2 minutes" in response.content.decode()


@pytest.mark.django_db
def test_it_answers_allauths_refusals_with_the_429_page(client: Client) -> None:
    url = reverse("account_login")
    data = {"login": "nobody@example.com", "password": "wrong password"}

    # allauth allows 5 failures per address, and 30 attempts a minute per IP.
    responses = [client.post(url, data) for _ in range(31)]

    refused = [response for response in responses if response.status_code == 429]
    assert refused, [response.status_code for response in responses]
    assert 60 <= int(refused[0]["Retry-After"]) <= 300
    assert "minute" in refused[0].content.decode()
