"""Malformed input on every consent route is a 4xx problem, never a 500."""

from __future__ import annotations

import pytest

from tests.support.consent_world import World, years_ago

NASTY_BODIES = [
    None,
    b"{",
    b"[]",
    b'"x"',
    b'{"a": 1}',
    b'{"template_id": "nope", "subject_id": 5}',
    b'{"value": ' + b"[" * 50 + b"]" * 50 + b"}",
    b'{"ticket": "a.b.c.d.e.f.g"}',
    b'{"reason": ' + b'"' + b"x" * 600 + b'"}',
    b'{"key": "A", "term_days": -1, "categories": "x"}',
    b'{"operator_id": "00000000-0000-0000-0000-000000000000", "subject_id": "x"}',
    b'{"kind": "operator", "name": "a\\u0000b",'
    b' "categories": [{"key": "a.b", "title": "\\u0000"}]}',
]
NASTY_IDS = ["x"]


def _routes(subject: str, consent: str) -> list[tuple[str, str]]:
    return [
        ("POST", "/api/v1/organizations"),
        ("PUT", "/api/v1/consent/catalogue"),
        ("POST", "/api/v1/consent/templates"),
        ("POST", "/api/v1/consent/requests"),
        ("POST", f"/api/v1/consent/requests/{consent}/revoke"),
        ("GET", "/api/v1/consent/feed?since=-1"),
        ("GET", "/api/v1/consent/feed?since=abc&limit=0"),
        ("GET", f"/api/v1/subjects/{subject}/data?purpose=&categories="),
        ("GET", f"/api/v1/subjects/{subject}/data?purpose=a.b&categories=" + "x," * 100),
        ("PUT", f"/api/v1/subjects/{subject}/data/person.fullname"),
        ("PUT", f"/api/v1/subjects/{subject}/data/%20"),
        ("POST", "/api/v1/transfers/tickets"),
        ("POST", "/api/v1/transfers/redeem"),
        ("POST", f"/api/v1/destruction/{consent}/confirm"),
        ("GET", f"/api/v1/me/consents?subject={consent}"),
        ("GET", "/api/v1/me/requests?subject=x"),
        ("GET", "/api/v1/me/transfers?limit=0"),
        ("GET", "/api/v1/me/data?subject=00000000-0000-0000-0000-000000000000"),
        ("POST", f"/api/v1/me/access-requests?subject={subject}"),
        ("GET", f"/api/v1/access-requests/{consent}"),
        ("GET", f"/api/v1/access-requests/{consent}.html"),
        ("GET", f"/api/v1/consents/{consent}"),
        ("GET", f"/api/v1/consents/{consent}/receipt"),
        ("POST", f"/api/v1/consents/{consent}/approve"),
        ("POST", f"/api/v1/consents/{consent}/refuse"),
        ("POST", f"/api/v1/consents/{consent}/withdraw"),
        ("POST", f"/api/v1/consents/{consent}/suspend"),
    ]


def test_malformed_input_never_500(world: World):
    h = world.h
    person, _ = h.person(years_ago(30))
    callers = [h.admin(), world.op_h, world.sup_h, h.person_headers(person)]
    seen = 0
    for ident in [str(person), NASTY_IDS[0]]:
        for method, path in _routes(ident, ident):
            for headers in callers:
                for body in NASTY_BODIES if method != "GET" else [None]:
                    r = h.client.request(
                        method,
                        path,
                        content=body,
                        headers={**headers, "content-type": "application/json"},
                    )
                    assert r.status_code < 500, (method, path, body, r.status_code, r.text)
                    seen += 1
    assert seen > 500


def test_nul_characters_are_refused_before_the_database(harness):
    """PostgreSQL text cannot hold NUL: a 4xx (the kernel's NUL guard answers 400 before the
    route; the models refuse NUL too, for callers that bypass HTTP), not a failing INSERT."""
    from tests.support.consent_world import org_fields

    h = harness
    org = org_fields(name="ООО\x00")
    r = h.client.post("/api/v1/organizations", json=org, headers=h.admin())
    assert r.status_code == 400, r.text
    import pydantic

    from consent.schemas.registry import OrganizationIn

    with pytest.raises(pydantic.ValidationError):
        OrganizationIn(**org)
    cat = {"categories": [{"key": "nul.test", "title": "bad\x00title"}]}
    r = h.client.put("/api/v1/consent/catalogue", json=cat, headers=h.admin())
    assert r.status_code == 400, r.text
    purp = {"purposes": [{"key": "nul.test", "title": "t", "legal_basis": "\x00"}]}
    r = h.client.put("/api/v1/consent/catalogue", json=purp, headers=h.admin())
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_me_writes_for_a_person_without_a_row_are_404_and_write_nothing(world: World):
    """A principal whose person row does not exist (a token that outlived its person): the
    ``/me`` writes that insert rows referencing the id answer 404 ``unknown-subject``, and no
    row or audit event mentions the id (was an FK IntegrityError, a 500)."""
    import uuid

    from sqlalchemy import func, or_, select

    from audit.models import AuditEvent
    from consent.models import AccessRequest, Block, Obligation
    from propusk.db import session_scope

    h = world.h
    ghost = uuid.uuid4()
    headers = h.person_headers(ghost)
    writes = [
        ("/api/v1/me/access-requests", None),
        ("/api/v1/me/obligations/stop-processing", {"reason": "stop"}),
        (
            "/api/v1/me/obligations/rectification",
            {"categories": ["person.fullname"], "correction": "Иванова", "proof": "паспорт"},
        ),
    ]
    for path, body in writes:
        for params in ({}, {"subject": str(ghost)}):
            r = h.client.post(path, json=body, params=params, headers=headers)
            assert r.status_code == 404, (path, r.status_code, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["type"].endswith("unknown-subject"), r.json()
    with session_scope(h.runtime.sessionmaker) as s:
        for model in (AccessRequest, Obligation, Block):
            n = s.scalar(select(func.count()).where(model.subject_id == ghost))
            assert n == 0, model.__tablename__
        label = f"person:{ghost}"
        cond = or_(AuditEvent.subject == label, AuditEvent.actor == label)
        assert s.scalar(select(func.count()).where(cond)) == 0
