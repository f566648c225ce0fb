"""The shared cache: Django's Redis backend, keeping one client per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` around the
pooled connections for every call. With redis-py 8 that constructor fills a
table of a few hundred response callbacks, which costs more than the round
trip to a local Redis: a signed-in request, with its session and user read
from the cache, paid it several times over. A client holds no connection of
its own (it borrows one from the pool for each command) and is safe to share
between threads, so one per pool is kept and reused.
"""

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, servers: Any, **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        """Return the client of the pool that serves this call, made once per pool."""
        # Django's own internals, which django-stubs doesn't describe.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            self._clients[id(pool)] = client
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache, with the client reuse above."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
