"""Fixed-window rate limits over the cache, and the 429 page that reports them."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
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


def next_window_start(window: int) -> int:
    """Return when the next window of `window` seconds begins, as a Unix time."""
    return (int(time.time()) // window + 1) * window


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
    limit = Limit("test-reset", count=1, window=60)
    start = next_window_start(60)
    with time_machine.travel(start + 50, tick=False) as clock:
        assert hit(limit, "k").allowed
        refused = hit(limit, "k")
        assert not refused.allowed
        assert refused.retry_after == 10

        clock.shift(9)
        assert not hit(limit, "k").allowed

        clock.shift(1)
        assert hit(limit, "k").allowed


def test_it_stores_counters_that_expire_with_their_window() -> None:
    limit = Limit("test-expiry", count=5, window=60)
    start = next_window_start(60)
    with time_machine.travel(start + 45, tick=False) as clock:
        hit(limit, "k")
        hit(limit, "k")

        # The counter lives until its window ends, not a whole window from the first hit.
        [(first_key, seconds_left)] = list(stored_counters("test-expiry"))
        assert 14 < seconds_left <= 15

        clock.shift(15)
        assert hit(limit, "k").allowed
        counters = dict(stored_counters("test-expiry"))
        if isinstance(caches["default"], LocMemCache):
            assert first_key not in counters
        # (Redis expires keys on its own clock, which travels with nobody: the TTL above
        # is what it will go by.) The new window counts under a key of its own.
        [seconds_left] = [left for key, left in counters.items() if key != first_key]
        assert 59 < seconds_left <= 60


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
