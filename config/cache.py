"""The shared cache on Redis: Django's backend, with one client per connection pool.

Django's ``RedisCacheClient`` builds a new ``redis.Redis`` for every cache call, and a
client's construction (its table of response callbacks) cost more CPU than the call's round
trip: about 0.1 ms each, three to six times a request (throttles, permissions,
load shedding). A ``redis.Redis`` is safe to share; its connections come from the pool."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Both are Django's (not in its type stubs): the pool of ``write``, the client class.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))  # pools live as long as this object
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
