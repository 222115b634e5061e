"""``propusk.errors.is_database_outage``, the one test every route handler and lane asks, on
real driver errors: a server that is not there, a pool with no connection to give, and the
errors a query causes itself (which are not an outage and stay a 4xx/500 matter)."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from propusk.db import make_engine
from propusk.errors import is_database_outage
from tests.support.servers import free_port


def _raised(fn) -> BaseException:
    with pytest.raises(Exception) as caught:
        fn()
    return caught.value


def test_a_server_that_is_not_there_is_an_outage():
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    try:
        err = _raised(lambda: engine.connect())
    finally:
        engine.dispose()
    assert isinstance(err, sa_exc.OperationalError) and is_database_outage(err)
    raw = _raised(lambda: psycopg.connect(f"host=127.0.0.1 port={free_port()} user=postgres"))
    assert is_database_outage(raw)  # the driver's own error (the policy listener's connection)
    wrapped = RuntimeError("the batch's commit failed")
    wrapped.__cause__ = err
    assert is_database_outage(wrapped)  # found through the cause


def test_a_pool_with_no_connection_to_give_is_an_outage(pg_url):
    engine = make_engine(pg_url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    try:
        with engine.connect():
            err = _raised(lambda: engine.connect())
    finally:
        engine.dispose()
    assert isinstance(err, sa_exc.TimeoutError) and is_database_outage(err)


def test_errors_a_query_causes_are_not_an_outage(pg_url):
    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            syntax = _raised(lambda: conn.execute(text("SELEC 1")))
        with engine.connect() as conn:
            conn.execute(text("CREATE TEMP TABLE t (id int primary key)"))
            conn.execute(text("INSERT INTO t VALUES (1)"))
            duplicate = _raised(lambda: conn.execute(text("INSERT INTO t VALUES (1)")))
        with engine.connect() as conn:
            division = _raised(lambda: conn.execute(text("SELECT 1/0")))
    finally:
        engine.dispose()
    assert isinstance(duplicate, sa_exc.IntegrityError)
    for err in (syntax, duplicate, division):
        assert not is_database_outage(err)
    sqlite = make_engine("sqlite://")
    with sqlite.connect() as conn:
        missing = _raised(lambda: conn.execute(text("SELECT * FROM nowhere")))
    assert isinstance(missing, sa_exc.OperationalError) and not is_database_outage(missing)
    assert not is_database_outage(ValueError("not a database error"))


def test_the_api_outage_answer_does_not_promise_that_nothing_was_saved():
    """A connection cut while the COMMIT was on its way is an outage too (``connection
    invalidated``), yet the transaction may have committed: a client told "nothing was
    changed" would repeat a non-idempotent POST (a second consent, transfer, task). The
    API's answer says what the outage page says: retry later, and check a change first."""
    from propusk.errors import outage_problem

    detail = outage_problem().body()["detail"]
    assert "nothing was changed" not in detail
    assert "may have been saved" in detail


def test_a_pull_batch_whose_commit_met_an_outage_is_answered_as_the_outage():
    """The pull lane answers a batch whose COMMIT failed as uncertain; when the database went
    away under it (PostgreSQL stopped during the commit: seen in the restart test), the
    answer is the one every route gives a failed commit in an outage — 503
    ``database-unavailable``, whose detail says a change may have been saved — not a second
    kind of 503. A failed commit that is not an outage keeps the lane's own «retry»."""
    import json

    from consent.batcher import CommitUncertain
    from consent.fastpath import uncertain_answer
    from propusk.errors import outage_problem

    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none")
    try:
        gone = _raised(lambda: engine.connect())
    finally:
        engine.dispose()
    path = "/api/v1/subjects/x/data"
    for cause, expected in (
        (gone, outage_problem().body(path)),
        (ValueError("a deferred constraint"), None),
    ):
        uncertain = CommitUncertain("the batch's commit failed")
        uncertain.__cause__ = cause
        status, content_type, body, _ = uncertain_answer(uncertain, path)
        answer = json.loads(body)
        assert status == 503 and content_type == b"application/problem+json"
        if expected is not None:
            assert answer == expected
        else:
            assert answer["type"].endswith("/retry") and answer["title"] == "Service unavailable"
