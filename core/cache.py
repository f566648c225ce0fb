"""The shared cache: a faster Django Redis backend, and copies dropped when their rows change.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` around the
pooled connections for every call. With redis-py 8 that constructor fills a
table of a few hundred response callbacks, which costs more than the round
trip to a local Redis: a signed-in request, with its session and user read
from the cache, paid it several times over. A client holds no connection of
its own (it borrows one from the pool for each command) and is safe to share
between threads, so one per pool is kept and reused.

`Copies` keeps copies of what the database holds (a user row, a count) in the
shared cache for requests that read them on every page, and drops a copy
whenever what it copies changes. The hard part is a request that read the
database just before a change committed and stores what it read just after
the copy was dropped: that would keep the old row until the copy expires.
So a change does two things: it deletes the copy at once, and once the
transaction commits it leaves a "changed" mark in its place for
`CHANGED_SECONDS` (longer than a request may run), and readers only ever
*add* a copy (Redis `SET NX`), which fails while the mark is there. For those
few seconds the readers of that one key go to the database.
"""

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import transaction

# Longer than a request may take (gunicorn's timeout is 30 s), so no request that read
# the database before a change can still be on its way to store what it read.
CHANGED_SECONDS = 45
_CHANGED = "lectern:changed"


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


def is_shared() -> bool:
    """Say whether every process of the site sees the same default cache.

    A local-memory cache belongs to one process: what one web worker (or the
    `run_periodic` process) drops from it, the others keep. Copies that must
    disappear the moment their row changes can live only in a shared cache.
    """
    return not isinstance(caches["default"], LocMemCache)


class Copies:
    """Copies of something the database holds, one per id, kept in the shared cache.

    Without a shared cache nothing is kept: every read goes to the database.
    """

    def __init__(self, prefix: str, *, timeout: int) -> None:
        self.prefix = prefix
        self.timeout = timeout

    def key(self, ident: object) -> str:
        return f"{self.prefix}:{ident}"

    def lookup(self, ident: object) -> tuple[Any, bool]:
        """Return the kept copy (None when there is none) and whether one may be stored now."""
        if not is_shared():
            return None, False
        return self.read(cache.get(self.key(ident)))

    def read(self, found: Any) -> tuple[Any, bool]:
        """Like `lookup`, for what the cache answered for `key(ident)` (read with other keys)."""
        if found is None:
            return None, True
        if isinstance(found, str) and found == _CHANGED:
            return None, False
        return found, False

    def store(self, ident: object, value: Any) -> None:
        """Keep `value` unless a change was marked since `lookup` (never overwrites)."""
        cache.add(self.key(ident), value, self.timeout)

    def get_or_load(self, ident: object, load: Callable[[], Any]) -> Any:
        """Return the kept copy, or `load()` it (and keep it when allowed)."""
        found, storable = self.lookup(ident)
        if found is not None:
            return found
        value = load()
        if storable:
            self.store(ident, value)
        return value

    def drop(self, idents: Iterable[object]) -> None:
        """Forget the copies of `idents` now, and mark them changed once the transaction commits."""
        if not is_shared():
            return
        keys = [self.key(ident) for ident in idents]
        if not keys:
            return
        cache.delete_many(keys)
        transaction.on_commit(partial(_mark_changed, keys))


def _mark_changed(keys: list[str]) -> None:
    cache.set_many(dict.fromkeys(keys, _CHANGED), CHANGED_SECONDS)
