"""The shared cache, chosen from the environment: Redis or the database for several servers, files for one machine."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from django.core.exceptions import ImproperlyConfigured

from followthrough.settings import VAR_DIR, _cache
from tests.processes import EXE, REDIS_URL, environment, shared_database


@pytest.mark.parametrize(
    "url, backend, location",
    [
        (None, "filebased.FileBasedCache", str(VAR_DIR / "cache")),
        ("redis://cache.internal:6379/2", "redis.RedisCache", "redis://cache.internal:6379/2"),
        ("rediss://cache.internal:6380/0", "redis.RedisCache", "rediss://cache.internal:6380/0"),
        ("db", "db.DatabaseCache", "followthrough_cache"),
        ("file:///srv/followthrough/cache", "filebased.FileBasedCache", "/srv/followthrough/cache"),
        ("locmem", "locmem.LocMemCache", "followthrough"),
    ],
)
def test_cache_url_chooses_the_backend(url, backend, location):
    config = _cache(url, None, None)
    assert config["BACKEND"] == f"django.core.cache.backends.{backend}"
    assert config["LOCATION"] == location


def test_cache_backend_names_any_backend_and_the_prefix_keeps_installations_apart(monkeypatch):
    monkeypatch.setenv("CACHE_KEY_PREFIX", "tracking-test")
    config = _cache("redis://ignored:6379/0", "django.core.cache.backends.dummy.DummyCache", "x")
    assert (config["BACKEND"], config["LOCATION"], config["KEY_PREFIX"]) == (
        "django.core.cache.backends.dummy.DummyCache", "x", "tracking-test"
    )


def test_a_cache_url_not_understood_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured, match="CACHE_URL 'memcached://x' is not understood"):
        _cache("memcached://x", None, None)


def shell(env: dict[str, str], code: str) -> str:
    done = subprocess.run([str(EXE), "shell", "-v0", "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def set_then_get(env: dict[str, str]) -> str:
    value = uuid.uuid4().hex
    shell(env, f"from django.core.cache import cache; cache.set('shared-test', '{value}', 60)")
    assert shell(env, "from django.core.cache import cache; print(cache.get('shared-test'))") == value
    return value


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_database_cache_is_made_by_migrate_and_shared_by_processes(tmp_path):
    with shared_database(tmp_path) as url:
        env = environment(url, tmp_path, CACHE_URL="db")
        done = subprocess.run([str(EXE), "migrate", "--noinput", "-v0"], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        set_then_get(env)  # one process writes, another reads


@pytest.mark.slow
def test_redis_is_shared_by_processes(tmp_path):
    import redis

    prefix = f"ft-test-{uuid.uuid4().hex[:8]}"
    env = environment("sqlite:///" + str(tmp_path / "unused.sqlite3"), tmp_path, CACHE_URL=REDIS_URL, CACHE_KEY_PREFIX=prefix)
    value = set_then_get(env)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert [k.decode() for k in client.scan_iter(f"{prefix}:*")] == [f"{prefix}:1:shared-test"]
        assert value.encode() in client.get(f"{prefix}:1:shared-test")
    finally:
        client.delete(f"{prefix}:1:shared-test")
