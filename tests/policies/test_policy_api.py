"""Policy changes through the API and the service: versioned, audited, applied at commit,
never on rollback; the decision cache forgets what a change makes stale."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fastapi import APIRouter

from audit import service as audit
from policies import service
from policies.engine import current_engine
from policies.models import PolicyRule
from propusk.db import session_scope
from propusk.deps import require
from propusk.errors import ValidationProblem
from propusk.security import Principal, RoleGrant
from tests.policies.world import CALLER_HEADER

ADMIN = {CALLER_HEADER: "padm"}


def _rule(obj: str | None = None) -> dict:
    return {
        "role": "teacher",
        "domain": "school:*",
        "object": obj or f"test.o{uuid.uuid4().hex[:8]}",
        "action": "read",
    }


@pytest.fixture
def added_rules(runtime) -> Iterator[list[str]]:
    """Ids of admin rules a test adds; removed afterwards, so no rule outlives its test in the
    worker's shared database."""
    ids: list[str] = []
    yield ids
    with session_scope(runtime.sessionmaker) as session:
        for rule_id in ids:
            if session.get(PolicyRule, uuid.UUID(rule_id)) is not None:
                service.remove_rule(session, "system:test", uuid.UUID(rule_id))


def _changes_by(client, actor: str) -> list[dict]:
    """This test's policy changes (its admin is a fresh subject), newest first."""
    history = client.get("/api/v1/policy/history", headers=ADMIN).json()
    return [h for h in history if h["actor"] == actor]


def _explain(client, subject: str, domain: str, obj: str, act: str = "read") -> dict:
    params = {"subject": subject, "domain": domain, "object": obj, "action": act}
    response = client.get("/api/v1/policy/explain", params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()


def test_add_and_remove_rule_versioned_and_explained(world_client, world) -> None:
    teacher = world.caller("tea").subject
    before = world_client.get("/api/v1/policy", headers=ADMIN).json()
    assert any(r["source"] == "file" and r["object"] == "roster" for r in before["rules"])
    rule = _rule()

    created = world_client.post("/api/v1/policy/rules", json=rule, headers=ADMIN)
    assert created.status_code == 201, created.text
    rule_id = created.json()["id"]
    after = world_client.get("/api/v1/policy", headers=ADMIN).json()
    assert after["version"] > before["version"]
    assert rule_id in {r["id"] for r in after["rules"]}

    # the teacher has no link yet: explain says no rule matched
    denied = _explain(world_client, teacher, world.school_a, rule["object"])
    assert denied["allowed"] is False and denied["rule"] is None
    granted = world_client.post(
        "/api/v1/policy/roles",
        json={"subject": teacher, "role": "teacher", "domain": world.school_a},
        headers=ADMIN,
    )
    assert granted.status_code == 201, granted.text
    allowed = _explain(world_client, teacher, world.school_a, rule["object"])
    assert allowed["allowed"] is True
    assert allowed["rule"]["source"] == f"db:{rule_id}"
    assert allowed["via"] == "link"

    changes = _changes_by(world_client, world.caller("padm").subject)
    assert [h["kind"] for h in changes] == ["roles.granted", "rule.added"]
    assert changes[0]["subject"] == teacher

    removed = world_client.delete(f"/api/v1/policy/rules/{rule_id}", headers=ADMIN)
    assert removed.status_code == 204
    assert _explain(world_client, teacher, world.school_a, rule["object"])["allowed"] is False
    gone = world_client.delete(f"/api/v1/policy/rules/{rule_id}", headers=ADMIN)
    assert gone.status_code == 404


def test_new_rule_takes_effect_for_callers(world_client, world, added_rules) -> None:
    """A route guarded by an object nobody may use opens when a rule is added (cache dropped)."""
    rule = _rule()
    path_router = APIRouter()

    @path_router.get(f"/test/{rule['object']}/{{school_id}}")
    def probe_path(
        school_id: str,
        principal: Principal = require(rule["object"], "read", domain_param="school_id"),
    ) -> dict:
        return {"ok": True}

    world_client.app.include_router(path_router)
    school_a = world.school_a.split(":", 1)[1]
    url = f"/test/{rule['object']}/{school_a}"
    teacher = {CALLER_HEADER: "tea"}
    assert world_client.get(url, headers=teacher).status_code == 403  # now cached as denied
    created = world_client.post("/api/v1/policy/rules", json=rule, headers=ADMIN)
    assert created.status_code == 201
    added_rules.append(created.json()["id"])
    assert world_client.get(url, headers=teacher).status_code == 200
    other = world.school_b.split(":", 1)[1]
    assert world_client.get(f"/test/{rule['object']}/{other}", headers=teacher).status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        {"role": "Teacher", "domain": "school:*", "object": "roster", "action": "read"},
        {"role": "teacher", "domain": "planet:*", "object": "roster", "action": "read"},
        {"role": "teacher", "domain": "school:*", "object": "Roster!", "action": "read"},
        {
            "role": "teacher",
            "domain": "school:*",
            "object": "roster",
            "action": "read",
            "condition": "whenever",
        },
        {"role": "teacher"},
    ],
)
def test_bad_rules_are_422_and_change_nothing(world_client, world, body) -> None:
    response = world_client.post("/api/v1/policy/rules", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _changes_by(world_client, world.caller("padm").subject) == []


def test_duplicate_rule_is_409(world_client, added_rules) -> None:
    file_row = {
        "role": "school_admin",
        "domain": "school:*",
        "object": "roster",
        "action": "import",
    }
    assert (
        world_client.post("/api/v1/policy/rules", json=file_row, headers=ADMIN).status_code == 409
    )
    rule = _rule()
    created = world_client.post("/api/v1/policy/rules", json=rule, headers=ADMIN)
    assert created.status_code == 201
    added_rules.append(created.json()["id"])
    again = world_client.post("/api/v1/policy/rules", json=rule, headers=ADMIN)
    assert again.status_code == 409
    assert again.json()["type"].endswith("policy-rule-exists")


def test_explain_rejects_bad_input(world_client) -> None:
    response = world_client.get(
        "/api/v1/policy/explain",
        params={"subject": "nobody", "domain": "*", "object": "x", "action": "read"},
        headers=ADMIN,
    )
    assert response.status_code == 422


def test_set_subject_roles_applies_at_commit_and_is_audited(app, runtime, world) -> None:
    engine = app.state.policy_engine
    subject = f"person:{uuid.uuid4()}"
    bare = Principal(kind="person", subject=subject, channel="session")
    school = world.school_a
    assert not service.decide(bare, "roster", "import", domain=school, engine=engine).allowed

    with session_scope(runtime.sessionmaker) as session:
        v1 = service.set_subject_roles(session, subject, [("school_admin", school)])
        # not committed yet: the engine must not see it
        assert not service.decide(bare, "roster", "import", domain=school, engine=engine).allowed
    decision = service.decide(bare, "roster", "import", domain=school, engine=engine)
    assert decision.allowed and decision.via == "link" and decision.version == v1

    with session_scope(runtime.sessionmaker) as session:
        same = service.set_subject_roles(session, subject, [("school_admin", school)])
        assert same == v1  # nothing changed, no new version
        events = audit.events_for_subject(session, subject, types=["policy.changed"])
        assert [e.body["kind"] for e in events] == ["roles.set"]
        assert events[0].body["added"] == [["school_admin", school]]

    with session_scope(runtime.sessionmaker) as session:
        service.set_subject_roles(session, subject, [("teacher", school)])
    assert not service.decide(bare, "roster", "import", domain=school, engine=engine).allowed
    assert service.decide(bare, "status", "read", domain=school, engine=engine).allowed


def test_rolled_back_change_never_applies(app, runtime, world) -> None:
    engine = app.state.policy_engine
    subject = f"person:{uuid.uuid4()}"
    bare = Principal(kind="person", subject=subject, channel="session")
    engine.snapshot()
    with pytest.raises(RuntimeError), session_scope(runtime.sessionmaker) as session:
        service.set_subject_roles(session, subject, [("school_admin", world.school_a)])
        raise RuntimeError("the request failed later")
    engine.poll()
    assert not service.decide(
        bare, "roster", "import", domain=world.school_a, engine=engine
    ).allowed
    with session_scope(runtime.sessionmaker) as session:
        assert service.subject_roles(session, subject) == []


def test_set_subject_roles_rejects_bad_grants(runtime) -> None:
    with session_scope(runtime.sessionmaker) as session:
        with pytest.raises(ValidationProblem):
            service.set_subject_roles(session, "person:x", [("teacher", "school:*")])
        with pytest.raises(ValidationProblem):
            service.set_subject_roles(session, "someone", [("teacher", "school:a")])


def test_authorize_in_a_handler_uses_this_apps_engine(world_client, world) -> None:
    """``authorize`` inside a sync handler finds the engine ``require`` used (two apps in one
    process must not mix their policies)."""
    router = APIRouter()
    seen: dict = {}

    @router.get("/test/authorize-engine")
    def probe(principal: Principal = require("audit.proof", "read")) -> dict:
        seen["engine"] = current_engine()
        decision = service.authorize(
            principal, "person", "read", resource={"subject": principal.subject}
        )
        return {"rule": decision.rule}

    world_client.app.include_router(router)
    response = world_client.get("/test/authorize-engine", headers={CALLER_HEADER: "stu"})
    assert response.status_code == 200
    assert seen["engine"] is world_client.app.state.policy_engine


def test_principal_grants_include_implicit_roles() -> None:
    p = Principal(
        kind="platform_admin", subject="person:a", roles=(RoleGrant("teacher", "school:s"),)
    )
    assert service.principal_grants(p) == {
        ("teacher", "school:s"),
        ("authenticated", "*"),
        ("platform_admin", "*"),
    }
    assert service.principal_grants(Principal(kind="anonymous", subject="anonymous")) == set()
