"""Platform-only consent routes decide by the policy, not by hand-made checks in the handler.

``PUT /consent/catalogue`` and ``POST /organizations`` are refused by ``require`` (403 naming the
missing permission) to a participant, an operator's staff, an operator client and a supplier
client; the platform administrator passes. Whether a caller works on the whole 152-FZ
obligation register or only on its own organisation's is the policy object
``obligation.register.all``, so ``propusk policy explain`` tells the truth about all three.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from policies.deps import iter_routes
from policies.engine import PolicyEngine, build_snapshot
from policies.model import read_file_policy
from propusk.db import utcnow
from propusk.security import Principal, RoleGrant
from tests.support.consent_world import Harness, World

API = "/api/v1"


def _person_with(h: Harness, role: str, domain: str) -> dict[str, str]:
    """A person in Propusk's own pages holding one role link."""
    pid = uuid.uuid4()
    principal = Principal(
        kind="person",
        subject=f"person:{pid}",
        person_id=pid,
        roles=(RoleGrant(role, domain),),
        channel="session",
    )
    return h.token_for(principal)


def _admin_by_role(h: Harness) -> dict[str, str]:
    """A person holding the ``platform_admin`` role (a role link, not the principal kind)."""
    return _person_with(h, "platform_admin", "*")


def _non_admins(h: Harness) -> dict[str, dict[str, str]]:
    org = str(uuid.uuid4())
    return {
        "person": h.person_headers(uuid.uuid4()),
        "operator staff": _person_with(h, "operator_staff", f"org:{org}"),
        "operator client": h.org_client(org, "operator"),
        "supplier client": h.org_client(org, "supplier"),
    }


def _refused_by_policy(response, permission: str) -> bool:
    return response.status_code == 403 and response.json().get("permission") == permission


def test_catalogue_write_is_refused_by_the_policy_to_everyone_but_the_admin(harness: Harness):
    h = harness
    key = f"test.probe_{uuid.uuid4().hex[:8]}"
    body = {"categories": [{"key": key, "title": "Проба политики"}]}
    url = f"{API}/consent/catalogue"
    for who, headers in _non_admins(h).items():
        r = h.client.put(url, json=body, headers=headers)
        assert _refused_by_policy(r, "consent.catalogue:write"), (who, r.status_code, r.text)
    op = h.org_client(h.organization("operator")["id"], "operator")
    assert key not in {c["key"] for c in h.client.get(url, headers=op).json()["categories"]}

    r = h.client.put(url, json=body, headers=h.admin())
    assert r.status_code == 200, r.text
    assert r.json() == {"categories": 1, "purposes": 0}
    assert key in {c["key"] for c in h.client.get(url, headers=op).json()["categories"]}
    # a platform_admin role link passes the same way
    r = h.client.put(url, json=body, headers=_admin_by_role(h))
    assert r.status_code == 200, r.text


def test_organisation_registration_is_refused_by_the_policy(harness: Harness):
    h = harness
    for who, headers in _non_admins(h).items():
        r = h.client.post(f"{API}/organizations", json={}, headers=headers)
        assert _refused_by_policy(r, "organization:write"), (who, r.status_code, r.text)
    assert h.organization("supplier")["kind"] == "supplier"  # the admin registers


def _incident(h: Harness, headers: dict[str, str], **extra) -> dict:
    detected = (utcnow() - timedelta(hours=1)).isoformat()
    body = {"detected_at": detected, "description": "проба политики", **extra}
    r = h.client.post(f"{API}/obligations/incidents", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_obligation_register_scope(world: World):
    """The admin (kind or role) works on every organisation's obligations; an operator client
    only on its own (what it records is its own, whatever ``operator_id`` it names)."""
    h = world.h
    other = h.organization("operator")
    other_h = h.org_client(other["id"], "operator")
    mine = _incident(h, world.op_h, operator_id=other["id"])
    assert mine["operator_id"] == world.op["id"]
    theirs = _incident(h, other_h)
    platform = _incident(h, h.admin(), operator_id=other["id"])
    assert platform["operator_id"] == other["id"]

    def status(headers, obligation) -> int:
        return h.client.get(f"{API}/obligations/{obligation['id']}", headers=headers).status_code

    for admin in (h.admin(), _admin_by_role(h)):
        assert [status(admin, o) for o in (mine, theirs, platform)] == [200, 200, 200]
    assert [status(world.op_h, o) for o in (mine, theirs, platform)] == [200, 404, 404]
    assert [status(other_h, o) for o in (mine, theirs, platform)] == [404, 200, 200]
    for who, headers in _non_admins(h).items():
        if who == "operator client":
            continue  # an operator of an unregistered organisation: past the policy
        r = h.client.get(f"{API}/obligations/{mine['id']}", headers=headers)
        assert _refused_by_policy(r, "obligation.register:read"), (who, r.status_code, r.text)


@pytest.fixture(scope="module")
def explain():
    """``propusk policy explain`` over the default policy: the subject's stored role links and
    the pseudo-role ``authenticated`` (``policies.service.explain``)."""
    admin, operator, org = "person:" + str(uuid.uuid4()), "client:op-explain", str(uuid.uuid4())
    links = [(admin, "platform_admin", "*"), (operator, "operator", f"org:{org}")]
    engine = PolicyEngine(None, snapshot=build_snapshot(read_file_policy(), [], links, (0, 0)))

    def decide(who: str, obj: str, act: str) -> bool:
        subject = admin if who == "admin" else operator
        grants = frozenset({("authenticated", "*")})
        return engine.decide(subject, grants, "*", obj, act).allowed

    return decide


@pytest.mark.parametrize(
    ("obj", "act"),
    [
        ("consent.catalogue", "write"),
        ("organization", "write"),
        ("obligation.register.all", "read"),
        ("obligation.register.all", "write"),
    ],
)
def test_explain_tells_the_truth(explain, obj: str, act: str):
    assert explain("admin", obj, act)
    assert not explain("operator", obj, act)


def test_the_routes_declare_those_permissions(app):
    declared = {(m, r.path): r.policy for r in iter_routes(app) for m in r.methods}
    assert declared[("PUT", f"{API}/consent/catalogue")] == ("consent.catalogue", "write")
    assert declared[("POST", f"{API}/organizations")] == ("organization", "write")
    assert declared[("GET", f"{API}/consent/catalogue")] == ("consent.template", "read")
