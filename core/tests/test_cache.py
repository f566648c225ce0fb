"""The shared cache: one Redis client reused."""

from django.core.cache import cache, caches

from core.testing import requires_redis


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
