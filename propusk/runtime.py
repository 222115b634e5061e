"""The process-wide runtime: settings, engine and session factory, shared by app and CLI."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from propusk.db import make_engine, make_sessionmaker
from propusk.settings import Settings, get_settings


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessionmaker: sessionmaker[Session]

    def dispose(self) -> None:
        self.engine.dispose()


def build_runtime(settings: Settings | None = None) -> Runtime:
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    return Runtime(settings=settings, engine=engine, sessionmaker=make_sessionmaker(engine))
