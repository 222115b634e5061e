"""The process-wide runtime: settings, engine and session factory, shared by app and CLI."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from propusk.caches import CacheRegistry
from propusk.caches import registry as process_caches
from propusk.db import make_engine, make_sessionmaker
from propusk.ratelimit import RateLimiter
from propusk.settings import Settings, get_settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessionmaker: sessionmaker[Session]
    # the process's caches (declared by the packages that own them; docs/operations.md)
    caches: CacheRegistry = field(default=process_caches)
    # rate limits shared by every instance through Redis (settings.redis_url), else per process
    limiter: RateLimiter = field(default_factory=lambda: RateLimiter(None))

    def dispose(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings | None = None) -> Runtime:
    settings = settings or get_settings()
    pool = {}
    if not settings.database_url.startswith("sqlite"):
        pool = {"pool_size": settings.db_pool_size, "max_overflow": settings.db_max_overflow}
    engine = make_engine(settings.database_url, **pool)
    return Runtime(
        settings=settings,
        engine=engine,
        sessionmaker=make_sessionmaker(engine),
        limiter=RateLimiter(settings.redis_url, prefix=settings.redis_prefix + "rl:"),
    )
