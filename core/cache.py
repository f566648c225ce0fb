"""What the shared cache can promise, and a counter that only ever moves forward.

Copies of fast-changing state (a conversation's version, say) may live in the
cache only when every process reads the same one: Redis in production. The
embedded default's local-memory cache is private to each process, so a change
made by `run_periodic` or a task worker would never reach the web process;
there, callers ask the database instead (`is_shared`).
"""

import logging
import threading
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

log = logging.getLogger(__name__)

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
    return isinstance(caches["default"], RedisCache)


def raise_to(key: str, value: int, *, timeout: int) -> None:
    """Store `value` under `key` unless a larger number is already there.

    Writers that finish out of order (two posts committed a millisecond apart,
    their after-commit hooks running the other way round) or a reader filling
    the cache from an older snapshot can then never move the number backwards.
    Best effort: if the cache is down the copy is simply not updated, and
    readers of an expired or missing copy go to the database.
    """
    backend: Any = caches["default"]
    try:
        if isinstance(backend, RedisCache):
            full_key = backend.make_and_validate_key(key)
            client = backend._cache.get_client(full_key, write=True)
            client.eval(_RAISE_TO, 1, full_key, int(value), int(timeout))
        elif isinstance(backend, LocMemCache):
            with _local_lock:
                current = backend.get(key)
                if current is None or current < value:
                    backend.set(key, value, timeout=timeout)
        else:
            backend.set(key, value, timeout=timeout)
    except Exception:
        log.warning("cache.raise_to_failed", extra={"key": key}, exc_info=True)


def get_many(keys: list[str]) -> dict[str, Any]:
    """Read several keys in one round trip; an unreachable cache reads as empty."""
    try:
        return caches["default"].get_many(keys)
    except Exception:
        log.warning("cache.read_failed", exc_info=True)
        return {}


def raise_all_to(values: dict[str, int], *, timeout: int) -> None:
    """`raise_to` for several keys, in one round trip to Redis."""
    if not values:
        return
    backend: Any = caches["default"]
    if not isinstance(backend, RedisCache):
        for key, value in values.items():
            raise_to(key, value, timeout=timeout)
        return
    try:
        keys = [backend.make_and_validate_key(key) for key in values]
        client = backend._cache.get_client(keys[0], write=True)
        with client.pipeline(transaction=False) as pipe:
            for full_key, value in zip(keys, values.values(), strict=True):
                pipe.eval(_RAISE_TO, 1, full_key, int(value), int(timeout))
            pipe.execute()
    except Exception:
        log.warning("cache.raise_to_failed", extra={"keys": len(values)}, exc_info=True)


def delete_many(keys: list[str]) -> None:
    """Delete several keys; an unreachable cache is logged, not raised."""
    try:
        caches["default"].delete_many(keys)
    except Exception:
        log.warning("cache.delete_failed", extra={"keys": len(keys)}, exc_info=True)


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
