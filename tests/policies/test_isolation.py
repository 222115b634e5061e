"""Cross-school isolation and guardianship: a school admin of A gets 403 on every object of
school B, a parent sees only own children, a teacher of A sees no student of B."""

from __future__ import annotations

import random
import uuid

import pytest
from fastapi.testclient import TestClient

from idp import schools
from policies.deps import iter_routes
from policies.engine import PolicyEngine, build_snapshot
from policies.model import read_file_policy
from policies.service import authorize, decide
from propusk.db import session_scope
from propusk.errors import Forbidden
from tests.policies.world import World, call, install_test_resolver, make_world

# Everything but what every caller may do anywhere (audit proofs: public-interest data).
UNIVERSAL = {(o, a) for r, d, o, a, c in read_file_policy() if r == "authenticated" and c == "any"}
VOCABULARY = sorted({(o, a) for _, _, o, a, _ in read_file_policy()} - UNIVERSAL)
# Rows that hold only under a condition on the resource: denied even in domain * for B's data.
CONDITIONAL = {
    (o, a)
    for _, _, o, a, _ in read_file_policy()
    if all(c != "any" for _, _, o2, a2, c in read_file_policy() if (o2, a2) == (o, a))
}
SCHOOL_ROLES = ("stu", "par", "tea", "sadm", "proc")


@pytest.fixture
def engine() -> PolicyEngine:
    return PolicyEngine(None, snapshot=build_snapshot(read_file_policy(), [], [], (0, 0)))


def school_b_resource(world: World) -> dict:
    someone = f"person:{uuid.uuid4()}"
    return {
        "subject": someone,
        "guardians": [f"person:{uuid.uuid4()}"],
        "schools": [world.school_b],
        "organization": world.org_y,
        "proctors": [f"person:{uuid.uuid4()}"],
        "takers": [someone],
    }


@pytest.mark.parametrize("column", SCHOOL_ROLES)
@pytest.mark.parametrize(("obj", "act"), VOCABULARY)
def test_school_a_roles_get_nothing_of_school_b(engine, world, column, obj, act) -> None:
    caller = world.caller(column)
    resource = school_b_resource(world)
    domains = (world.school_b, "*") if (obj, act) in CONDITIONAL else (world.school_b,)
    for domain in domains:
        decision = decide(caller, obj, act, domain=domain, resource=resource, engine=engine)
        assert not decision.allowed, decision.as_dict()


def test_parent_sees_only_own_children(engine, world) -> None:
    parent = world.caller("par")
    mine = {"subject": f"person:{uuid.uuid4()}", "guardians": [parent.subject]}
    theirs = {"subject": f"person:{uuid.uuid4()}", "guardians": [f"person:{uuid.uuid4()}"]}
    guarded = sorted({(o, a) for _, _, o, a, c in read_file_policy() if c == "guardian"})
    assert ("person", "read") in guarded and ("consent", "withdraw") in guarded
    for obj, act in guarded:
        assert decide(parent, obj, act, resource=mine, engine=engine).allowed, (obj, act)
        assert not decide(parent, obj, act, resource=theirs, engine=engine).allowed, (obj, act)


def test_teacher_of_a_sees_no_student_of_b(engine, world) -> None:
    teacher = world.caller("tea")
    student_a = {"subject": f"person:{uuid.uuid4()}", "schools": [world.school_a]}
    student_b = {"subject": f"person:{uuid.uuid4()}", "schools": [world.school_b]}
    assert decide(teacher, "person", "read", resource=student_a, engine=engine).allowed
    for domain in ("*", world.school_b, world.school_a):
        assert not decide(
            teacher, "person", "read", domain=domain, resource=student_b, engine=engine
        ).allowed
    assert not decide(teacher, "status", "read", domain=world.school_b, engine=engine).allowed


def test_authorize_raises_forbidden_naming_the_permission(engine, world) -> None:
    with pytest.raises(Forbidden) as info:
        authorize(world.caller("sadm"), "roster", "import", domain=world.school_b, engine=engine)
    assert info.value.extra == {"permission": "roster:import", "domain": world.school_b}


def _ogrn() -> str:
    body = "1" + "".join(random.choice("0123456789") for _ in range(11))
    return body + str(int(body) % 11 % 10)


@pytest.fixture
def schools_world(app, runtime) -> World:
    """Schools A and B registered through idp's service, callers of school A."""
    with session_scope(runtime.sessionmaker) as session:
        a = schools.register_school(session, ogrn=_ogrn(), name="Школа A")
        b = schools.register_school(session, ogrn=_ogrn(), name="Школа B")
    base = make_world()
    world = World(f"school:{a.id}", f"school:{b.id}", base.org_x, base.org_y, {})
    # the callers of the generic world, moved into school A
    for key, p in base.callers.items():
        roles = tuple(
            type(g)(g.role, world.school_a if g.domain.startswith("school:") else g.domain)
            for g in p.roles
        )
        world.callers[key] = type(p)(
            kind=p.kind,
            subject=p.subject,
            person_id=p.person_id,
            client_id=p.client_id,
            organization_id=p.organization_id,
            roles=roles,
        )
    install_test_resolver(app, world)
    return world


def test_school_scoped_routes_refuse_school_b_over_http(app, schools_world) -> None:
    """Every mounted route with a ``{school_id}``: callers of school A get 403 for school B."""
    world = schools_world
    routes = [r for r in iter_routes(app) if r.policy and "{school_id}" in r.path]
    if not routes:
        pytest.fail("no school-scoped routes found: the isolation test would prove nothing")
    school_b = world.school_b.split(":", 1)[1]
    leaks = []
    with TestClient(app) as client:
        for route in routes:
            path = route.path.replace("{school_id}", school_b)
            path = path.replace("{status_id}", str(uuid.uuid4()))
            for method in sorted(route.methods - {"HEAD"}):
                for column in (*SCHOOL_ROLES, "ostf", "op", "sup"):
                    response = call(client, method, path, column)
                    if response.status_code != 403:
                        leaks.append((method, route.path, column, response.status_code))
    assert leaks == []
