"""Reloads swap a complete enforcer: decisions made while reloading never see an empty policy."""

from __future__ import annotations

import threading
import uuid

from policies import service
from propusk.db import session_scope
from propusk.security import Principal


def test_no_window_without_roles_during_reloads(app, runtime) -> None:
    engine = app.state.policy_engine
    subject = f"person:{uuid.uuid4()}"
    school = f"school:{uuid.uuid4()}"
    with session_scope(runtime.sessionmaker) as session:
        service.set_subject_roles(session, subject, [("school_admin", school)])
    engine.snapshot()
    before = engine.reloads
    bare = Principal(kind="person", subject=subject, channel="session")
    done = threading.Event()
    denials: list[int] = []
    errors: list[BaseException] = []
    checked = [0]

    def reloader() -> None:
        try:
            for _ in range(15):
                engine.reload()
        finally:
            done.set()

    def checker() -> None:
        try:
            while not done.is_set():
                engine.clear_cache()
                decision = service.decide(bare, "roster", "import", domain=school, engine=engine)
                checked[0] += 1
                if not decision.allowed:
                    denials.append(decision.version)
        except BaseException as exc:  # a failure mid-reload is the bug under test
            errors.append(exc)

    threads = [threading.Thread(target=reloader), threading.Thread(target=checker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert engine.reloads == before + 15
    assert checked[0] > 0
    assert denials == []
