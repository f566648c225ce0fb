"""The shared cache: one Redis client reused, and copies dropped when their rows change."""

import pytest
from django.core.cache import cache, caches
from django.test import override_settings

from core.cache import CHANGED_SECONDS, Copies, is_shared
from core.testing import requires_redis

LOCAL_MEMORY = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@requires_redis
def test_it_reuses_one_redis_client() -> None:
    client = caches["default"]._cache  # type: ignore[attr-defined]

    assert client.get_client() is client.get_client()
    assert client.get_client(write=True) is client.get_client()


@requires_redis
def test_it_still_reads_and_writes_redis() -> None:
    cache.set("greeting", {"hello": "world"}, 30)

    assert cache.get("greeting") == {"hello": "world"}
    assert cache.get_many(["greeting", "missing"]) == {"greeting": {"hello": "world"}}


@override_settings(CACHES=LOCAL_MEMORY)
def test_it_calls_local_memory_unshared() -> None:
    assert not is_shared()


class Loads:
    """Stands for the database: counts the reads and answers the current value."""

    def __init__(self, value: object) -> None:
        self.value = value
        self.count = 0

    def __call__(self) -> object:
        self.count += 1
        return self.value


@pytest.fixture
def copies() -> Copies:
    return Copies("test-copies", timeout=60)


@requires_redis
def test_it_keeps_what_it_loaded(copies: Copies) -> None:
    load = Loads(3)

    assert copies.get_or_load(1, load) == 3
    assert copies.get_or_load(1, load) == 3
    assert load.count == 1


@requires_redis
@pytest.mark.django_db
def test_it_loads_again_once_dropped_inside_the_changing_transaction(copies: Copies) -> None:
    load = Loads(3)
    copies.get_or_load(1, load)
    load.value = 4

    copies.drop([1])

    assert copies.get_or_load(1, load) == 4


@requires_redis
@pytest.mark.django_db(transaction=True)
def test_it_keeps_nothing_for_a_while_once_a_change_commits(copies: Copies) -> None:
    load = Loads(3)
    copies.get_or_load(1, load)

    copies.drop([1])  # outside a transaction: "committed" at once

    assert copies.get_or_load(1, load) == 3
    assert copies.get_or_load(1, load) == 3
    assert load.count == 3
    redis = caches["default"]._cache.get_client()  # type: ignore[attr-defined]
    assert 0 < redis.ttl(cache.make_key(copies.key(1))) <= CHANGED_SECONDS


@requires_redis
@pytest.mark.django_db(transaction=True)
def test_it_never_stores_a_row_read_before_a_change_committed(copies: Copies) -> None:
    found, storable = copies.lookup(1)  # a request finds no copy and reads the old row...
    assert (found, storable) == (None, True)

    copies.drop([1])  # ...while a change commits...
    copies.store(1, "old row")  # ...and then stores what it read

    assert copies.lookup(1) == (None, False)


@override_settings(CACHES=LOCAL_MEMORY)
def test_it_keeps_nothing_without_a_shared_cache(copies: Copies) -> None:
    load = Loads(3)

    copies.get_or_load(1, load)
    copies.get_or_load(1, load)

    assert load.count == 2
