"""The shared cache on Redis (config/cache.py): one client per connection pool."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from config.cache import RedisCache

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs REDIS_URL (CI runs it against the real Redis)"
)


def test_the_production_setting_uses_it() -> None:
    assert settings.CACHES["default"]["BACKEND"] == "config.cache.RedisCache"


def test_calls_share_one_client_and_still_reach_redis() -> None:
    cache = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "test-cache-client"})
    client = cache._cache.get_client(write=True)
    assert cache._cache.get_client(write=False) is client
    assert cache._cache.get_client("any key", write=True) is client
    cache.set("answer", {"revision": 3}, 30)
    assert cache.get("answer") == {"revision": 3}
    assert cache.add("answer-count", 1, 30)
    assert cache.incr("answer-count") == 2
    cache.delete_many(["answer", "answer-count"])
    assert cache.get("answer") is None
    # Django's own backend builds a client per call: what this backend is for.
    plain = DjangoRedisCache(settings.REDIS_URL, {})
    assert plain._cache.get_client() is not plain._cache.get_client()


def test_two_caches_do_not_share_clients() -> None:
    one = RedisCache(settings.REDIS_URL, {})
    two = RedisCache(settings.REDIS_URL, {})
    assert one._cache.get_client() is not two._cache.get_client()
