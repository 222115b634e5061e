"""The pull batcher: pulls sharing a batch are decided and recorded independently, in order;
bad input in one is that pull's problem alone; a stopped batcher takes nothing."""

from __future__ import annotations

import uuid

import pytest

from consent import repository as repo
from consent.batcher import PullBatcher
from consent.flows import Outcome, PullAsk
from propusk.db import session_scope
from propusk.errors import Problem
from propusk.runtime import build_runtime
from tests.support.consent_world import given_consent, operator_with_template
from tests.support.settings import make_settings


def test_a_batch_keeps_each_pull_to_itself(db_url):
    rt = build_runtime(make_settings(db_url))
    org_id, tpl_id = operator_with_template(rt)
    subject, consent_id = given_consent(rt, org_id, tpl_id)
    stranger = uuid.uuid4()  # no consent at all
    batcher = PullBatcher(rt.sessionmaker, rt.settings, workers=1)
    asks = [
        PullAsk(org_id, subject, "attestation.online", ["person.fullname"], "test"),
        PullAsk(org_id, subject, "attestation.online", ["no.such.category"], "test"),
        PullAsk(org_id, stranger, "attestation.online", ["person.fullname"], "test"),
        PullAsk(
            org_id, subject, "attestation.online", ["person.fullname", "education.grades"], "test"
        ),
    ]
    try:
        batcher.start()
        futures = [batcher.submit(a) for a in asks]
        results = [f.result(timeout=60) for f in futures]
    finally:
        batcher.stop()
        rt.dispose()
    ok, bad, none, partial = results
    assert isinstance(ok, Outcome) and ok.decision.allowed == {"person.fullname": consent_id}
    assert isinstance(bad, Problem) and bad.status == 422
    assert isinstance(none, Outcome) and none.decision.refused == {"person.fullname": "no_consent"}
    assert isinstance(partial, Outcome) and partial.decision.outcome == "partial"
    assert partial.decision.refused == {"education.grades": "category_not_covered"}
    rt = build_runtime(make_settings(db_url))
    try:
        with session_scope(rt.sessionmaker) as s:
            mine = {t.id for t in repo.transfers_of_subject(s, subject, 100)}
            theirs = {t.id for t in repo.transfers_of_subject(s, stranger, 100)}
    finally:
        rt.dispose()
    # one record per decided pull, none for the bad one
    assert mine == {ok.transfer.id, partial.transfer.id}
    assert theirs == {none.transfer.id}


def test_a_stopped_batcher_takes_nothing(db_url):
    rt = build_runtime(make_settings(db_url))
    batcher = PullBatcher(rt.sessionmaker, rt.settings)
    ask = PullAsk(uuid.uuid4(), uuid.uuid4(), "attestation.online", ["person.fullname"], "t")
    try:
        with pytest.raises(RuntimeError):
            batcher.submit(ask)
        batcher.start()
        batcher.stop()
        with pytest.raises(RuntimeError):
            batcher.submit(ask)
    finally:
        rt.dispose()
