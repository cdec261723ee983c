"""Rate limits kept in MongoDB (`limits`' moving windows), shared by every worker and process of a service.

Used by the portal's sign-in limits and the public notice's objection form. A moving window (a log of the last
hits) and not a fixed one: limits' fixed window relies on $$NOW in an update pipeline, which SecantusDB does not
honour (a window would never reset there until the TTL sweep)."""
from __future__ import annotations

import functools
import math
import os
import time

from shared.config import Settings


@functools.cache
def _storage_class():
    """limits' MongoDB storage on the process's one pymongo client (shared.storage.mongo_client) instead of a
    client of its own, which it would close (and even open first) when garbage-collected."""
    from limits.storage import MongoDBStorage

    from shared.storage import mongo_client

    class SharedClientMongoDBStorage(MongoDBStorage):
        STORAGE_SCHEME = ["greenmine+mongodb"]

        def _init_mongo_client(self, uri, **options):
            return mongo_client(uri)

        def __del__(self):
            pass  # the client is shared: shared.storage.close_clients closes it

    return SharedClientMongoDBStorage


def moving_window_limiter(settings: Settings, database: str):
    """A `limits` moving-window limiter whose windows live in `database` (collection `windows`)."""
    from limits.strategies import MovingWindowRateLimiter

    return MovingWindowRateLimiter(_storage_class()(settings.mongodb_uri, database_name=database))


def parse_limits(env_name: str, default: str, env: dict | None = None):
    """The limits of environment variable `env_name` (else `default`), e.g. '5 per minute; 20 per hour'."""
    from limits import parse_many

    text = (os.environ if env is None else env).get(env_name) or default
    try:
        return parse_many(text)
    except ValueError:
        raise ValueError(f"environment variable {env_name} must be limits like '5 per minute; 20 per hour', "
                         f"got {text!r}") from None


def retry_after(limiter, over: list) -> int:
    """Seconds until the first of the `(item, key)` limits that were reached lets one more hit through."""
    now = time.time()
    return max(1, math.ceil(max(limiter.get_window_stats(item, *key).reset_time - now for item, key in over)))


def wait_text(seconds: int) -> str:
    """A wait in Chinese for a refusal: 1小时5分, 3分20秒, 45秒."""
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}小时{minutes}分" if hours else f"{minutes}分{secs}秒" if minutes else f"{secs}秒"


class Windows:
    """A service's moving windows, its limiter opened on first use (gunicorn forks before the first request).
    A key is `(item, (name, value))`: one parsed limit and what it counts (`("client", "203.0.113.9")`)."""

    def __init__(self, settings: Settings, database: str):
        self.settings, self.database = settings, database
        self._limiter = None

    @property
    def limiter(self):
        if self._limiter is None:
            self._limiter = moving_window_limiter(self.settings, self.database)
        return self._limiter

    def admit(self, keys: list) -> int | None:
        """Count one hit against each key unless a limit is already reached: seconds to wait (nothing counted),
        else None. Each hit is atomic: of concurrent requests past a limit, the extra ones are refused here."""
        over = [(item, key) for item, key in keys if not self.limiter.test(item, *key)]
        if not over:
            over = [(item, key) for item, key in keys if not self.limiter.hit(item, *key)]
        return retry_after(self.limiter, over) if over else None
