"""The world the API fuzzer (``tests/security/test_fuzz_api.py``, ``make fuzz``) runs in: the
lived-in demo (``propusk.demo_states``: consents in every state, transfers, demands, the operator
console's and the platform console's data), the ESIA simulator's people logged in as their
first ESIA login makes them, and the credentials of each main role, all real:

* people — a login session (``idp.oidc.logins.create_login_session``, what the login route
  stores) sent as the ``propusk_session`` cookie with the session's CSRF token and Propusk's
  own origin: Propusk's own pages, where a person acts with every permission the policy gives;
* a relying party holding the parent's access token with every resource scope (a delegated
  principal, held to its scopes), stored as the authorization-code grant stores it;
* the operator's and the supplier's OAuth clients: ``client_credentials`` tokens from the real
  token endpoint (its edge lane).

Every credential goes through the real resolver (``idp.oidc.principal.resolve``): no test
resolver is installed. ``pools`` are the ids of real rows by path-parameter name, so that a
generated request can name an object that exists.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from idp import login, statuses
from idp.demo import load_fixture
from idp.oidc import clients, csrf, keys, logins
from idp.oidc import tokens as oidc_tokens
from idp.oidc.principal import SESSION_COOKIE
from idp.oidc.token_store import create_grant, record_token
from idp.upstream import UpstreamOrgRole
from policies.delegation import ALL_SCOPES
from propusk.db import session_scope, utcnow
from propusk.demo_states import _identity, seed_states
from propusk.runtime import Runtime

# The people of the simulator's fixture who stand for each role (idp/esia/simulator/fixtures).
PEOPLE = {
    "parent": "1000400016",  # Смирнов Дмитрий, father of Артём (under 14)
    "student": "1000400013",  # Волкова Полина, 7А, 14–17
    "teacher": "1000400003",  # Орлова, teacher of the school
    "school_admin": "1000400002",  # Белов, ESIA admin of the school
    "proctor": "1000400004",  # Зайцев, teacher appointed proctor by the school admin
    "operator_staff": "1000400026",  # Егорова, ESIA employee of the operator
    "operator_head": "1000400025",  # Тихонов, ESIA chief of the operator
    "platform_admin": "1000400027",  # Петров
}
SCHOOL_OID = "1000500001"


@dataclass
class FuzzWorld:
    runtime: Runtime
    client: Any  # the TestClient that ran the app's start-up
    people: dict[str, uuid.UUID]
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    pools: dict[str, list[str]] = field(default_factory=dict)
    clients: dict[str, tuple[str, str]] = field(default_factory=dict)  # role: id, secret
    diary: str = ""  # the relying party's client id
    app: Any = None  # the app under test (set by the fixture that serves it)
    schema: Any = None  # its /openapi.json, loaded by Schemathesis


def fixture_identity(oid: str):
    """The fixture person as their ESIA login reports them: children and organisations."""
    fixture = load_fixture()
    persons = {p["oid"]: p for p in fixture["persons"]}
    orgs = {o["oid"]: o for o in fixture["organizations"]}
    kids = [persons[k["child"]] for k in fixture.get("kids", []) if k["parent"] == oid]
    roles = tuple(
        UpstreamOrgRole(
            org_oid=r["org"],
            ogrn=orgs[r["org"]]["ogrn"],
            name=orgs[r["org"]].get("shortName") or orgs[r["org"]]["fullName"],
            chief=bool(r.get("chief")),
            admin=bool(r.get("admin")),
        )
        for r in fixture.get("roles", [])
        if r["person"] == oid
    )
    return replace(_identity(persons[oid], kids), organizations=roles)


def session_headers(rt: Runtime, person_id: uuid.UUID) -> dict[str, str]:
    """A fresh login session of the person as Propusk's own pages send it."""
    settings = rt.settings
    with session_scope(rt.sessionmaker) as s:
        raw = logins.create_login_session(
            s, person_id, amr=["pwd"], upstream="esia", ttl=3600, confirmed=True
        )
        login_row = logins.active_login_session(s, raw)
        token = csrf.token_for(settings, login_row.id_hash)
    return {
        "Cookie": f"{SESSION_COOKIE}={raw}",
        "X-CSRF-Token": token,
        "Origin": settings.issuer,
    }


def client_token(http, client_id: str, secret: str) -> dict[str, str]:
    r = http.post(
        "/oauth2/token", auth=(client_id, secret), data={"grant_type": "client_credentials"}
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def diary_client(rt: Runtime) -> str:
    """The relying party (an e-diary) that holds a parent's token."""
    with session_scope(rt.sessionmaker) as s:
        row, _ = clients.create_client(
            s,
            name="Электронный дневник (fuzz)",
            grant_types=["authorization_code"],
            redirect_uris=["https://rp.example/cb"],
        )
        return row.client_id


def relying_party_token(rt: Runtime, client_id: str, person_id: uuid.UUID) -> dict[str, str]:
    """The person's access token held by the relying party with every scope, stored as the
    authorization-code grant stores one (grant, issued token by ``jti``)."""
    settings = rt.settings
    scope = " ".join(ALL_SCOPES)
    with session_scope(rt.sessionmaker) as s:
        grant = create_grant(
            s,
            client_id=client_id,
            person_id=person_id,
            scope=scope,
            auth_time=utcnow(),
            amr=["pwd"],
            session_hash=None,
        )
        jti = oidc_tokens.new_jti()
        record_token(
            s,
            kind="access",
            secret=jti,
            grant_id=grant.id,
            client_id=client_id,
            scope=scope,
            ttl=settings.access_token_ttl,
        )
        key = keys.current_key(s, settings, settings.signing_alg)
        token = oidc_tokens.access_token(
            key, settings, client_id=client_id, sub=str(person_id), scope=scope, jti=jti
        )
    return {"Authorization": f"Bearer {token}"}


def _org_client(rt: Runtime, org_id: uuid.UUID, role: str) -> tuple[str, str]:
    with session_scope(rt.sessionmaker) as s:
        row, secret = clients.create_client(
            s,
            name=f"{role}-fuzz",
            grant_types=["client_credentials"],
            role=role,
            organization_id=org_id,
        )
        return row.client_id, secret


# path parameter -> the rows whose ids it may name
POOL_QUERIES = {
    "consent_id": "SELECT id FROM consent",
    "template_id": "SELECT id FROM consent_template",
    "school_id": "SELECT id FROM school",
    "org_id": "SELECT id FROM organization",
    "person_id": "SELECT id FROM person",
    "subject_id": "SELECT id FROM person",
    "exam_id": "SELECT id FROM exam_session",
    "task_id": "SELECT id FROM consent_destruction_task",
    "event_id": "SELECT id FROM consent_event",
    "obligation_id": "SELECT id FROM consent_obligation",
    "request_id": "SELECT id FROM consent_access_request",
    "client_id": "SELECT client_id FROM oidc_client",
    "status_id": "SELECT id FROM status",
    "entry_id": "SELECT id FROM roster_entry",
    "rule_id": "SELECT id FROM policy_rules",
    "document_id": "SELECT id FROM consent_document",
    "category": "SELECT key FROM consent_category",
    "index": "SELECT idx FROM audit_event ORDER BY idx LIMIT 50",
}


def pools_of(rt: Runtime, home: dict[str, str]) -> dict[str, list[str]]:
    """The ids of real rows by path parameter; the roles' own school and operator (``home``)
    make half of their pools, so that a school's or an operator's staff mostly names its own
    (another's is a 403 before any lookup)."""
    out = {}
    with rt.engine.connect() as conn:
        for name, query in POOL_QUERIES.items():
            rows = sorted(str(r[0]) for r in conn.execute(text(query)))  # stable: reproducible
            if name in home:
                rows = [home[name]] * len(rows) + rows
            if rows:
                out[name] = rows
    out["seq"] = ["0", "1", "2"]
    return out


def build_world(rt: Runtime, http) -> FuzzWorld:
    """Seed the lived-in demo, log the role people in, appoint the proctor, open an exam
    session and make every role's credentials (``http``: the app's started TestClient)."""
    settings = rt.settings
    report = seed_states(settings)
    people: dict[str, uuid.UUID] = {}
    with session_scope(rt.sessionmaker) as s:
        for role, oid in PEOPLE.items():
            people[role] = login.on_login(s, fixture_identity(oid), settings=settings).id
    world = FuzzWorld(rt, http, people)
    for role in people:
        world.headers[role] = credentials(world, role)
    school_id = _school_id(rt)
    with session_scope(rt.sessionmaker) as s:
        roles = {st.role for st in statuses.active_statuses(s, people["proctor"])}
    if "proctor" not in roles:  # the lived-in demo may have appointed him already
        r = http.post(
            f"/api/v1/schools/{school_id}/proctors",
            json={"person_id": str(people["proctor"])},
            headers=world.headers["school_admin"],
        )
        assert r.status_code == 201, r.text
    now = utcnow()
    window = {"opens_at": now.isoformat(), "closes_at": (now + timedelta(hours=3)).isoformat()}
    exam = {"school_id": str(school_id), "course": "Алгебра", "title": "Контрольная работа"}
    exam["takers"] = [str(people["student"])]
    r = http.post("/api/v1/exams/sessions", json=exam | window, headers=world.headers["proctor"])
    assert r.status_code == 201, r.text
    world.clients = {
        "operator_client": _org_client(rt, report.organizations["operator"], "operator"),
        "supplier_client": _org_client(rt, report.organizations["supplier"], "supplier"),
    }
    world.diary = diary_client(rt)
    for role in (*world.clients, "relying_party", "anonymous"):
        world.headers[role] = credentials(world, role)
    world.pools = pools_of(
        rt, {"school_id": str(school_id), "org_id": str(report.organizations["operator"])}
    )
    return world


def credentials(world: FuzzWorld, role: str) -> dict[str, str]:
    """Fresh credentials of the role (an access token lives ``access_token_ttl`` seconds, a
    long run outlives it)."""
    if role == "anonymous":
        return {}
    if role in world.people:
        return session_headers(world.runtime, world.people[role])
    if role == "relying_party":
        return relying_party_token(world.runtime, world.diary, world.people["parent"])
    return client_token(world.client, *world.clients[role])


def _school_id(rt: Runtime) -> uuid.UUID:
    with rt.engine.connect() as conn:
        return conn.execute(
            text("SELECT id FROM school WHERE esia_org_oid = :oid"), {"oid": SCHOOL_OID}
        ).scalar_one()
