"""The shared cache: a faster Redis backend, and what copies kept in it can promise.

Copies of state that changes (a conversation's version, a signed-in user's
row, a count) may live in the cache only when every process reads the same
one: Redis in production. The embedded default's local-memory cache is
private to each process, so a change made by `run_periodic` or a task worker
would never reach the web process; there, callers ask the database instead
(`is_shared`).

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` around the
pooled connections for every call. With redis-py 8 that constructor fills a
table of a few hundred response callbacks (about 85 µs), more than the round
trip to a local Redis: a signed-in request, reading its session and user,
paid it several times over. A client holds no connection of its own (it
borrows one from the pool for each command) and is safe to share between
threads, so `RedisCache` keeps one per pool.

Two kinds of copies are kept:

- Counters that only move forward (`raise_to`): a conversation's version,
  raised by writers that may finish out of order.
- Copies of a row or a count, dropped when it changes (`Copies`). The hard
  part is a request that read the database just before a change committed
  and stores what it read just after the copy was dropped: that would keep
  the old row until the copy expires. So a change deletes the copy at once
  and, once the transaction commits, leaves a "changed" mark in its place for
  `CHANGED_SECONDS` (longer than a request may run); readers only ever *add*
  a copy (Redis `SET NX`), which fails while the mark is there. For those few
  seconds the readers of that one key go to the database.

When Redis can't be reached, the cache behaves as an empty cache that forgets
at once, so pages keep rendering from the database: reads miss, writes are
dropped, `add` answers True (a rate-limit counter or a lock taken through it
lets the caller go ahead: fail open) and deletes are dropped. One warning is
logged when a process finds Redis gone and one when it answers again. For
`RETRY_SECONDS` after a failure calls don't try Redis at all, so a Redis that
hangs instead of refusing costs each request nothing. The exception is
`Copies.drop`: an old copy that outlived its change would be wrong for as
long as it lives, so dropping raises while Redis is away.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from django.db import transaction
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

# What an unreachable Redis raises (refused, reset, timed out, still loading its data).
UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# After a failed call, this process leaves Redis alone for this long.
RETRY_SECONDS = 2.0
# Bounds on connecting and on waiting for an answer, unless OPTIONS set their own: a
# Redis that is gone without refusing (a dead host) must not hold a request for long.
SOCKET_TIMEOUT_SECONDS = 1.0

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


class CacheUnreachableError(RedisConnectionError):
    """Redis failed moments ago; a call that must not pass quietly is refused without trying."""


class RedisCache(DjangoRedisCache):
    """Django's Redis cache, with the client reuse above, that treats an outage as a miss."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        options = params.setdefault("OPTIONS", {})
        options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", SOCKET_TIMEOUT_SECONDS)
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
        # Monotonic time until which Redis is taken to be down; 0.0 while it answers.
        self._down_until = 0.0

    def _call(self, operation: str, fallback: Any, call: Callable[..., Any], *args: Any) -> Any:
        if self._down_until and time.monotonic() < self._down_until:
            return fallback
        try:
            result = call(*args)
        except UNREACHABLE as error:
            self._went_down(operation, error)
            return fallback
        if self._down_until:
            self._came_back()
        return result

    def _went_down(self, operation: str, error: Exception) -> None:
        if not self._down_until:
            log.warning("cache.unreachable", extra={"operation": operation, "error": str(error)})
        self._down_until = time.monotonic() + RETRY_SECONDS

    def _came_back(self) -> None:
        self._down_until = 0.0
        log.warning("cache.reachable_again")

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._call("get", default, super().get, key, default, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._call("get_many", {}, super().get_many, keys, version)

    def has_key(self, key: Any, version: Any = None) -> Any:
        return self._call("has_key", False, super().has_key, key, version)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None
    ) -> None:
        self._call("set", None, super().set, key, value, timeout, version)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._call("set_many", list(data), super().set_many, data, timeout, version)

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._call("add", True, super().add, key, value, timeout, version)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: Any = None) -> Any:
        return self._call("touch", False, super().touch, key, timeout, version)

    def delete(self, key: Any, version: Any = None) -> Any:
        return self._call("delete", False, super().delete, key, version)

    def delete_many(self, keys: Any, version: Any = None) -> None:
        self._call("delete_many", None, super().delete_many, keys, version)

    def delete_many_or_raise(self, keys: list[str]) -> None:
        """Delete `keys`, raising when Redis can't be reached (see `Copies.drop`)."""
        if self.is_down():
            raise CacheUnreachableError("Redis failed moments ago")
        try:
            super().delete_many(keys)
        except UNREACHABLE as error:
            self._went_down("delete_many", error)
            raise

    def is_down(self) -> bool:
        """Say whether Redis failed moments ago (calls are skipped until `RETRY_SECONDS` pass)."""
        return bool(self._down_until) and time.monotonic() < self._down_until

    def ping(self) -> None:
        """Ask Redis itself, whatever this process thinks of it; raise when it doesn't answer."""
        self._cache.get_client(write=True).ping()
        if self._down_until:
            self._came_back()


# Set KEYS[1] to ARGV[1] unless it already holds a number at least as large.
_RAISE_TO = """
local current = tonumber(redis.call('GET', KEYS[1]))
local wanted = tonumber(ARGV[1])
if current == nil or current < wanted then
    redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
    return wanted
end
return current
"""

_local_lock = threading.Lock()


def is_shared() -> bool:
    """Say whether the default cache is one store for every process (Redis)."""
    return isinstance(caches["default"], DjangoRedisCache)


def raise_to(key: str, value: int, *, timeout: int) -> None:
    """Store `value` under `key` unless a larger number is already there.

    Writers that finish out of order (two posts committed a millisecond apart,
    their after-commit hooks running the other way round) or a reader filling
    the cache from an older snapshot can then never move the number backwards.
    Best effort: if the cache is down the copy is simply not updated, and
    readers of an expired or missing copy go to the database.
    """
    raise_all_to({key: value}, timeout=timeout)


def get_many(keys: list[str]) -> dict[str, Any]:
    """Read several keys in one round trip; an unreachable cache reads as empty."""
    try:
        return caches["default"].get_many(keys)
    except Exception:
        log.warning("cache.read_failed", exc_info=True)
        return {}


def get_near(key: str) -> Any:
    """Return what is kept under `key`: from this worker's memory, else from the shared cache.

    For values that never change under their key (it names the version of
    what they were made from, read from the database by the caller), so a
    copy in the worker's own memory (`CACHES["local"]`, a few seconds) is as
    good as the shared one and saves the round trip.
    """
    value = caches["local"].get(key)
    if value is None:
        value = cache.get(key)
        if value is not None:
            caches["local"].set(key, value)
    return value


def keep_near(key: str, value: Any, *, timeout: int) -> None:
    """Keep `value` for `get_near`: in the shared cache and in this worker's memory."""
    cache.set(key, value, timeout)
    caches["local"].set(key, value)


def raise_all_to(values: dict[str, int], *, timeout: int) -> None:
    """`raise_to` for several keys, in one round trip to Redis."""
    if not values:
        return
    backend: Any = caches["default"]
    if isinstance(backend, RedisCache) and backend.is_down():
        return
    try:
        if isinstance(backend, DjangoRedisCache):
            keys = [backend.make_and_validate_key(key) for key in values]
            client = backend._cache.get_client(keys[0], write=True)
            with client.pipeline(transaction=False) as pipe:
                for full_key, value in zip(keys, values.values(), strict=True):
                    pipe.eval(_RAISE_TO, 1, full_key, int(value), int(timeout))
                pipe.execute()
            return
        with _local_lock:  # one process's own memory: a lock makes it atomic
            for key, value in values.items():
                current = backend.get(key)
                if current is None or current < value:
                    backend.set(key, value, timeout=timeout)
    except Exception:
        log.warning("cache.raise_to_failed", extra={"keys": len(values)}, exc_info=True)


def set_quietly(key: str, value: Any, *, timeout: int) -> bool:
    """Store a copy of something the database holds; an unreachable cache is logged, not raised."""
    return set_quietly_many({key: value}, timeout=timeout)


def set_quietly_many(values: dict[str, Any], *, timeout: int) -> bool:
    """`set_quietly` for several keys in one round trip; say whether it worked."""
    try:
        caches["default"].set_many(values, timeout=timeout)
    except Exception:
        log.warning("cache.write_failed", extra={"keys": len(values)}, exc_info=True)
        return False
    return True


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
        """Return the kept copy (None when there is none) and whether one may be stored now.

        An unreachable cache reads as "go to the database, keep nothing".
        """
        if not is_shared():
            return None, False
        try:
            found = cache.get(self.key(ident))
        except Exception:
            log.warning("cache.read_failed", exc_info=True)
            return None, False
        return self.read(found)

    def read(self, found: Any) -> tuple[Any, bool]:
        """Like `lookup`, for what the cache answered for `key(ident)` (read with other keys)."""
        if found is None:
            return None, True
        if isinstance(found, str) and found == _CHANGED:
            return None, False
        return found, False

    def store(self, ident: object, value: Any) -> None:
        """Keep `value` unless a change was marked since `lookup` (never overwrites)."""
        try:
            cache.add(self.key(ident), value, self.timeout)
        except Exception:
            log.warning("cache.write_failed", exc_info=True)

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
        """Forget the copies of `idents` now, and mark them changed once the transaction commits.

        Unlike reads, this raises when the cache can't be reached: a change whose
        old copy might outlive it (a switched-off account still signed in) fails
        instead of passing quietly.
        """
        if not is_shared():
            return
        keys = [self.key(ident) for ident in idents]
        if not keys:
            return
        backend: Any = caches["default"]
        if isinstance(backend, RedisCache):
            backend.delete_many_or_raise(keys)
        else:
            backend.delete_many(keys)
        transaction.on_commit(partial(_mark_changed, keys))


def _mark_changed(keys: list[str]) -> None:
    cache.set_many(dict.fromkeys(keys, _CHANGED), CHANGED_SECONDS)
