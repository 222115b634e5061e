"""Demo data for ``make run``: each package seeds its own part, idempotently."""

from __future__ import annotations

from consent.demo import seed as seed_consent
from idp.demo import seed as seed_idp
from propusk.db import session_scope
from propusk.runtime import build_runtime
from propusk.settings import Settings


def seed(settings: Settings) -> None:
    runtime = build_runtime(settings)
    try:
        with session_scope(runtime.sessionmaker) as session:
            ids = seed_idp(session, settings)
            seed_consent(session, ids)
    finally:
        runtime.dispose()
