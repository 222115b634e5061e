"""API robustness: bad input gets a clear 4xx, never a 500.

Two halves, same assertions (``check_response``):

* ``test_fuzz_operation`` — property-based (schemathesis + Hypothesis) over every operation of
  the app's own OpenAPI schema, in-process through schemathesis' ASGI transport (no network),
  positive and negative (schema-violating) data, as three callers: anonymous (the real idp
  resolver), a platform admin and an operator client (``app.state.principal_resolver``, the
  kernel hook, returns their ``Principal``; the admin is a real person row made by
  ``idp.login.on_login``, the operator a real organisation made by
  ``idp.schools.register_operator_org``).
* ``test_nasty_input`` — hand-written nasty inputs for every route family (malformed JSON,
  wrong content type, huge bodies, invalid UUIDs and integers in paths, control characters,
  negative and overflowing integers in queries).

Assertions: no 5xx (an exception escaping the app counts as one); every 4xx under ``/api/`` is
``application/problem+json`` with ``type``, ``title`` and ``status``; every 4xx under
``/oauth2/`` is an OAuth error body (``{"error": ...}``), or an HTML error page for the
browser-facing authorization and logout endpoints.

Database: PostgreSQL only, in a database of this module's own. PostgreSQL is production and
is stricter than SQLite (NUL characters in text, 64-bit integer overflow and invalid UUID
literals are errors there, silently accepted by SQLite), so it finds more; one database keeps
the file well inside its time budget. It is a fresh database rather than the shared session one
because an admin fuzzer writes at random (policy rules, role links, the consent catalogue,
key rotations), which must not leak into the other tests of the worker.

Known defects owned by other packages are ``xfail(strict=True)`` in ``KNOWN_DEFECTS`` so the rest
keeps guarding and a fix turns the mark red (remove it then).
"""

from __future__ import annotations

import contextlib
import json
import random
import traceback
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi as st_asgi
from sqlalchemy import text
from sqlalchemy.engine import make_url

from propusk.db import make_engine, session_scope
from propusk.errors import PROBLEM_JSON
from propusk.migrate import upgrade
from propusk.runtime import build_runtime
from propusk.security import Principal, RoleGrant
from tests.support.operations import fuzz_settings, granted, operations
from tests.support.settings import make_settings

pytestmark = pytest.mark.postgres

CALLER_HEADER = "x-robustness-caller"
MAX_EXAMPLES = 15  # per operation and caller
ANONYMOUS_PROTECTED_EXAMPLES = 3  # the policy answers 401 before the route reads anything
SLOW_EXAMPLES = 4
SLOW_OPERATIONS = {"/login"}  # each call signs a request to the ESIA simulator (pure-Python GOST)
# browser-facing: Russian HTML page
HTML_ERROR_PAGES = (
    "/oauth2/authorize",
    "/oauth2/authorize/consent",
    "/oauth2/authorize/decision",
    "/oauth2/logout",
)

# (caller or "*", METHOD, path template) -> "<owner package>: <what>"; see the module docstring.
KNOWN_DEFECTS: dict[tuple[str, str, str], str] = {}
# Known defects whose fuzz cases do not fail on every run (the random writes of the other
# cases change what reaches the database): the operation still runs, fails on anything else,
# and is reported as xfail when only this defect (an exception whose text contains the first
# string) shows up. Each one has a strict xfail in test_nasty_input.
KNOWN_INTERMITTENT: dict[tuple[str, str, str], tuple[str, str]] = {}
# test_nasty_input ids -> "<owner package>: <what>"
KNOWN_NASTY: dict[str, str] = {}


# -- the assertions -------------------------------------------------------------------------
def check_response(method: str, path: str, status: int, content_type: str, content: bytes) -> None:
    """One response to bad (or random) input: a clear 4xx, never a 5xx."""
    where = f"{method} {path} -> {status}"
    assert status < 500, f"{where}: server error {content[:500]!r}"
    if not 400 <= status < 500:
        return
    ctype = content_type.split(";")[0].strip().lower()
    if path.startswith("/api/"):
        assert ctype == PROBLEM_JSON, (
            f"{where}: 4xx is {ctype!r}, not problem+json: {content[:300]!r}"
        )
        body = json.loads(content)
        assert isinstance(body, dict), f"{where}: problem is not an object"
        assert isinstance(body.get("type"), str) and body["type"], f"{where}: no type: {body}"
        assert isinstance(body.get("title"), str) and body["title"], f"{where}: no title: {body}"
        assert body.get("status") == status, f"{where}: status member {body.get('status')!r}"
    elif path.startswith("/oauth2/"):
        if ctype == "text/html" and path in HTML_ERROR_PAGES:
            assert content.strip(), f"{where}: empty HTML error page"
            return
        assert ctype == "application/json", f"{where}: OAuth error is {ctype!r}: {content[:300]!r}"
        body = json.loads(content)
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], (
            f"{where}: not an OAuth error body: {body}"
        )
        assert isinstance(body.get("error_description", ""), str), f"{where}: {body}"


def escaped_error() -> str:
    """The exception that escaped the app: its message and the last frames in our own code."""
    import sys

    exc = sys.exc_info()[1]
    frames = [
        f"{f.filename.split('/work/main/')[-1]}:{f.lineno} {f.name}"
        for f in traceback.extract_tb(exc.__traceback__)
        if "/lib/python3" not in f.filename and "/tests/" not in f.filename
    ]
    message = f"{type(exc).__module__}.{type(exc).__name__}: {exc}"[:600]
    return message + "\n  at " + "\n  at ".join(frames[-6:])


# -- the app under test ---------------------------------------------------------------------
@dataclass
class Target:
    app: object
    runtime: object
    principals: dict[str, Principal]
    person_id: uuid.UUID
    org_id: uuid.UUID
    supplier_id: uuid.UUID
    school_id: uuid.UUID
    client: object = None
    exam_id: uuid.UUID | None = None


def _ogrn13(rng: random.Random) -> str:
    body = str(rng.choice([1, 5])) + "".join(str(rng.randint(0, 9)) for _ in range(11))
    return body + str(int(body) % 11 % 10)


def _install_callers(app, principals: dict[str, Principal]) -> None:
    """Callers named by a test header; anyone else goes through the real (idp) resolver."""
    real = app.state.principal_resolver

    def resolve(request, session) -> Principal:
        who = request.headers.get(CALLER_HEADER)
        if who in principals:
            return principals[who]
        return real(request, session)

    app.state.principal_resolver = resolve


def _client_principal(role: str, org_id: uuid.UUID) -> Principal:
    client_id = f"robustness-{role}-{uuid.uuid4().hex[:8]}"
    return Principal(
        kind="client",
        subject=f"client:{client_id}",
        client_id=client_id,
        organization_id=org_id,
        roles=(RoleGrant(role, f"org:{org_id}"),),
    )


def build_target(database_url: str) -> Target:
    from idp import login
    from idp.upstream import UpstreamIdentity
    from propusk.app import create_app

    runtime = build_runtime(make_settings(database_url))
    rng = random.Random()
    with session_scope(runtime.sessionmaker) as s:
        person = login.on_login(
            s,
            UpstreamIdentity(
                esia_oid=str(rng.randint(10**9, 10**10)),
                last_name="Админова",
                first_name="Ольга",
                birth_date=date(1980, 5, 17),
                trusted=True,
            ),
            settings=runtime.settings,
        )
        person_id = person.id
    admin = Principal(
        kind="person",
        subject=f"person:{person_id}",
        person_id=person_id,
        roles=(RoleGrant("platform_admin", "*"),),
        channel="session",
    )
    principals = {
        "admin": admin,
    }
    app = create_app(runtime=runtime)
    _install_callers(app, principals)
    return Target(app, runtime, principals, person_id, uuid.uuid4(), uuid.uuid4(), uuid.uuid4())


def _inn10(rng: random.Random) -> str:
    d = [rng.randint(0, 9) for _ in range(9)]
    w = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    return "".join(map(str, d)) + str(sum(a * b for a, b in zip(w, d, strict=True)) % 11 % 10)


def _parties(t: Target, client) -> None:
    """An operator and a supplier registered through the API (consent registry + idp), and the
    consent catalogue loaded; the "operator"/"supplier" callers are clients bound to them."""
    from consent import catalogue

    with session_scope(t.runtime.sessionmaker) as s:
        catalogue.load_catalogue(s)
    rng = random.Random()
    for kind in ("operator", "supplier"):
        r = client.post(
            "/api/v1/organizations",
            json={
                "kind": kind,
                "name": f"ООО {kind} {uuid.uuid4().hex[:6]}",
                "inn": _inn10(rng),
                "ogrn": _ogrn13(rng),
                "address": "г. Москва, ул. Тверская, д. 1",
                "storage_country": "RU",
                "storage_location": "ЦОД Москва-1",
                "registry_number": "77-23-000123",
            },
            headers={CALLER_HEADER: "admin"},
        )
        assert r.status_code == 201, r.text
        org_id = uuid.UUID(r.json()["id"])
        setattr(t, "org_id" if kind == "operator" else "supplier_id", org_id)
        t.principals[kind] = _client_principal(kind, org_id)


def _school_staff(t: Target, client) -> None:
    """A real school; the person becomes its school admin (ESIA organisation role, through
    ``idp.login.on_login``) and proctor (appointed through the API), and opens a real exam
    session with themself as the taker. The "school" caller carries the person's real role
    grants (``idp.statuses.role_grants``)."""
    from datetime import UTC, datetime, timedelta

    from idp import identity, login, statuses
    from idp.upstream import UpstreamIdentity, UpstreamOrgRole

    ogrn, oid = _ogrn13(random.Random()), "77" + uuid.uuid4().hex[:8]
    admin = {CALLER_HEADER: "admin"}
    r = client.post(
        "/api/v1/schools",
        json={"ogrn": ogrn, "name": "МБОУ СОШ № 1 (robustness)", "org_oid": oid},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    t.school_id = uuid.UUID(r.json()["id"])

    def refresh_roles() -> None:
        with session_scope(t.runtime.sessionmaker) as s:
            roles = tuple(
                RoleGrant(role, dom) for role, dom in statuses.role_grants(s, t.person_id)
            )
        t.principals["school"] = Principal(
            kind="person",
            subject=f"person:{t.person_id}",
            person_id=t.person_id,
            roles=roles,
            channel="session",
        )

    with session_scope(t.runtime.sessionmaker) as s:
        person = identity.get_person(s, t.person_id)
        login.on_login(
            s,
            UpstreamIdentity(
                esia_oid=person.esia_oid,
                last_name="Админова",
                first_name="Ольга",
                birth_date=date(1980, 5, 17),
                trusted=True,
                organizations=(UpstreamOrgRole(org_oid=oid, ogrn=ogrn, name="x", admin=True),),
            ),
            settings=t.runtime.settings,
        )
    refresh_roles()
    school = {CALLER_HEADER: "school"}
    r = client.post(
        f"/api/v1/schools/{t.school_id}/proctors",
        json={"person_id": str(t.person_id)},
        headers=school,
    )
    assert r.status_code == 201, r.text
    refresh_roles()
    now = datetime.now(UTC)
    r = client.post(
        "/api/v1/exams/sessions",
        json={
            "school_id": str(t.school_id),
            "course": "Алгебра",
            "title": "Аттестация",
            "opens_at": now.isoformat(),
            "closes_at": (now + timedelta(hours=3)).isoformat(),
            "takers": [str(t.person_id)],
        },
        headers=school,
    )
    assert r.status_code == 201, r.text
    t.exam_id = uuid.UUID(r.json()["id"])


@pytest.fixture(scope="module")
def robust_db(pg_database) -> Iterator[str]:
    """A fresh migrated PostgreSQL database for this module (the fuzzer writes at random)."""
    name = f"propusk_rob_{uuid.uuid4().hex[:10]}"
    admin = make_engine(pg_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_database).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def target(robust_db) -> Iterator[Target]:
    from fastapi.testclient import TestClient

    t = build_target(robust_db)
    with TestClient(t.app, base_url="http://testserver") as client:  # runs startup/shutdown
        t.client = client
        _parties(t, client)
        _school_staff(t, client)
        yield t
    t.runtime.dispose()


@pytest.fixture(scope="module")
def api_schema(target):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate operation ids of GET/POST routes
        schema = schemathesis.openapi.from_dict(target.app.openapi())
    schema.app = target.app
    return schema


# -- the operations, known at collection time -----------------------------------------------

SCHOOL_OBJECTS = {"school", "roster", "status", "exam.session", "exam.attempt"}


def _fuzz_plan() -> list:
    """(caller, operation, examples): everyone on what they may reach, bounded in time."""
    ops = operations()
    pairs = granted()
    client_ops = {role: pairs.get(role, set()) for role in ("operator", "supplier")}
    plan = []
    for op in ops:
        slow = op.path in SLOW_OPERATIONS
        full = SLOW_EXAMPLES if slow else MAX_EXAMPLES
        # anonymous: everything; a protected route must answer 401 before it reads anything
        plan.append(("anonymous", op, full if op.public else ANONYMOUS_PROTECTED_EXAMPLES))
        plan.append(("admin", op, full))
        for role, theirs in client_ops.items():
            if op.policy in theirs:
                plan.append((role, op, full))
        if "{school_id}" in op.path or (op.policy and op.policy[0] in SCHOOL_OBJECTS):
            plan.append(("school", op, full))
    params = []
    for caller, op, examples in plan:
        reason = KNOWN_DEFECTS.get((caller, op.method, op.path)) or KNOWN_DEFECTS.get(
            ("*", op.method, op.path)
        )
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(
            pytest.param(
                caller,
                op.method,
                op.path,
                examples,
                id=f"{caller}-{op.method}-{op.path}",
                marks=marks,
            )
        )
    return params


def _string_leaves(value, path=()) -> list[tuple]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _string_leaves(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _string_leaves(v, (*path, i))]
    return []


def _put_nul(value, path: tuple):
    if not path:
        return value[: len(value) // 2] + "\x00" + value[len(value) // 2 :]
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {k: _put_nul(v, rest) if k == head else v for k, v in value.items()}
    return [_put_nul(v, rest) if i == head else v for i, v in enumerate(value)]


def _nul_in_one_string(case):
    """The case, valid per the schema except for a NUL in one string of its query or JSON body
    (PostgreSQL refuses NUL in text; the route must answer 4xx, not pass it on)."""
    leaves = [("query", p) for p in _string_leaves(case.query or {})]
    if case.media_type == "application/json" and isinstance(case.body, dict | list):
        leaves += [("body", p) for p in _string_leaves(case.body)]
    if not leaves:
        return st.just(case)

    def inject(i: int):
        where, leaf = leaves[i]
        setattr(case, where, _put_nul(getattr(case, where), leaf))
        return case

    return st.integers(0, len(leaves) - 1).map(inject)


@pytest.mark.parametrize(("caller", "method", "path", "examples"), _fuzz_plan())
def test_fuzz_operation(target, api_schema, caller, method, path, examples) -> None:
    operation = api_schema[path][method]
    fixed = {}
    if caller == "school":  # the real school, exam session and taker
        real = {"school_id": target.school_id, "exam_id": target.exam_id}
        real["person_id"] = target.person_id
        fixed["path_parameters"] = {k: str(v) for k, v in real.items() if f"{{{k}}}" in path}
    positive = operation.as_strategy(GenerationMode.POSITIVE, **fixed)
    strategies = [positive, positive.flatmap(_nul_in_one_string)]
    with contextlib.suppress(Exception):  # nothing in this operation can be made invalid
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE, **fixed))
    client = st_asgi.get_client(target.app)  # not entered: the module's TestClient ran startup
    headers = {CALLER_HEADER: caller} if caller != "anonymous" else {}

    @fuzz_settings(examples)
    @given(case=st.one_of(strategies))
    def run(case) -> None:
        repro = (
            f"reproduce: {caller} {method} {case.formatted_path} query={case.query!r} "
            f"headers={case.headers!r} body={case.body!r}"
        )
        try:
            response = case.call(session=client, headers=headers)
        except Exception:  # an exception escaping the app is a 500
            error = escaped_error()
            if known and known[0] in error:
                seen_known.append(f"{repro}\n{error}")
                return
            pytest.fail(f"{method} {path}: exception escaped the app\n{repro}\n{error}")
        ctype = (response.headers.get("content-type") or [""])[0]
        try:
            check_response(method, path, response.status_code, ctype, response.content)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{repro}") from None

    known = KNOWN_INTERMITTENT.get((caller, method, path))
    seen_known: list[str] = []
    run()
    if seen_known:  # only the known defect, and nothing else, went wrong
        pytest.xfail(f"{known[1]}\n{seen_known[0]}")


# -- hand-written nasty inputs ------------------------------------------------------------------
NUL = "\x00"
CTRL = "a\x00b\x01\x1b[31m\u202etxt\u200b\ufeff\U0001f600"
INVALID_UTF8 = b"\xff\xfe\xc3\x28\xa0\xa1"
HUGE = 3 * 1024 * 1024
BIG_INT = str(2**63)  # one past PostgreSQL bigint
HUGE_INT = "9" * 40
U = "00000000-0000-4000-8000-000000000000"  # a well-formed UUID nobody has
BAD_UUIDS = ("not-a-uuid", "%00", "1", U[:-1] + "g", U + "0")
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jws(header: bytes, payload: bytes = b"{}", signature: bytes = b"x" * 64) -> str:
    return f"{_b64(header)}.{_b64(payload)}.{_b64(signature)}"


HOSTILE_JWS = (
    "..",
    "a.b",
    "a.b.c.d.e",
    _jws(b"[1]"),
    _jws(b'"x"'),
    _jws(b"null"),
    _jws(b"{bad json"),
    _jws(b"\xff\xfe"),
    _jws(b'{"alg":"none"}', b'{"iss":"x"}', b""),
    _jws(b'{"alg":"ES256","kid":[1],"typ":"at+jwt"}'),
    _jws(b'{"alg":"ES256","kid":"\\u0000"}'),
    _jws(b'{"alg":"ES256","kid":"' + b"k" * 10_000 + b'"}'),
    _jws(b'{"alg":"RS256","kid":{"a":1},"crit":["exp"]}'),
    _jws(b'{"alg":"ES256","kid":"x"}', b"[]"),
    _jws(b'{"alg":"ES256","kid":"x"}', b'{"exp":"tomorrow","iss":1,"aud":[null]}'),
    _jws(b'{"alg":"HS256","kid":"x"}', b'{"iss":"robustness-client","sub":"robustness-client"}'),
    _jws(b'{"alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}'),
)


def _broken_json(path: str) -> list:
    """Malformed JSON, wrong content type, huge, invalid UTF-8 and control-character bodies."""
    return [
        ("POST", path, {"content": b'{"a": [1, 2,', "headers": JSON}),
        ("POST", path, {"content": b"role=x&domain=y", "headers": FORM}),
        ("POST", path, {"content": b"<a/>", "headers": {"content-type": "application/xml"}}),
        ("POST", path, {"content": b"", "headers": JSON}),
        ("POST", path, {"content": b"null", "headers": JSON}),
        ("POST", path, {"content": b"[1e999999]", "headers": JSON}),
        ("POST", path, {"content": b'{"a":' * 5000 + b"1" + b"}" * 5000, "headers": JSON}),
        ("POST", path, {"content": b'{"x": "' + b"x" * HUGE + b'"}', "headers": JSON}),
        ("POST", path, {"content": b'{"x": "' + INVALID_UTF8 + b'"}', "headers": JSON}),
    ]


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (a decompression bomb to the image reader)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _nasty_cases() -> list[tuple[str, str, str, str, dict]]:
    """(family, caller, method, path, httpx kwargs); {school}/{person} filled in at run time."""
    c: list[tuple[str, str, str, str, dict]] = []

    def add(family, caller, items):
        c.extend((family, caller, m, p, kw) for m, p, kw in items)

    # audit
    add(
        "audit",
        "admin",
        [
            ("GET", f"/api/v1/audit/events/{v}", {})
            for v in ("-1", BIG_INT, HUGE_INT, "abc", "%00", "1.5")
        ],
    )
    add(
        "audit",
        "anonymous",
        [
            ("GET", "/api/v1/audit/proofs/inclusion", {"params": {"index": i, "tree_size": t}})
            for i, t in (("-1", "-5"), (BIG_INT, BIG_INT), (HUGE_INT, "1"), (NUL, "1"), ("0", "0"))
        ]
        + [
            ("GET", "/api/v1/audit/proofs/consistency", {"params": {"first": f, "second": s}})
            for f, s in (("-1", HUGE_INT), (BIG_INT, BIG_INT), ("0", "0"), ("5", "2"), (CTRL, "1"))
        ]
        + [("GET", "/api/v1/audit/checkpoint", {"params": {"x": CTRL}})],
    )
    # policies
    add(
        "policies",
        "admin",
        [
            *_broken_json("/api/v1/policy/rules"),
            (
                "POST",
                "/api/v1/policy/rules",
                {"json": {"role": CTRL, "domain": NUL, "object": CTRL, "action": NUL}},
            ),
            (
                "POST",
                "/api/v1/policy/rules",
                {"json": {"role": "x" * 100_000, "domain": "*", "object": "o", "action": "read"}},
            ),
            (
                "POST",
                "/api/v1/policy/roles",
                {"json": {"subject": CTRL, "role": NUL, "domain": CTRL}},
            ),
            (
                "POST",
                "/api/v1/policy/roles",
                {
                    "json": {
                        "subject": "person:" + NUL,
                        "role": "student",
                        "domain": "school:" + NUL,
                    }
                },
            ),
            ("GET", "/api/v1/policy/roles", {"params": {"subject": NUL}}),
            (
                "DELETE",
                "/api/v1/policy/roles",
                {"params": {"subject": CTRL, "role": NUL, "domain": "school:x"}},
            ),
            (
                "GET",
                "/api/v1/policy/explain",
                {"params": {"subject": CTRL, "object": NUL, "action": NUL, "domain": CTRL}},
            ),
            *[
                ("GET", "/api/v1/policy/history", {"params": {"limit": v}})
                for v in ("-1", "0", BIG_INT, HUGE_INT, "x")
            ],
            *[("DELETE", f"/api/v1/policy/rules/{v}", {}) for v in (*BAD_UUIDS, U)],
        ],
    )
    # idp: people, schools, organisations, clients
    add(
        "idp",
        "admin",
        [
            *[("GET", f"/api/v1/persons/{v}", {}) for v in (*BAD_UUIDS, U)],
            *[("GET", f"/api/v1/schools/{v}", {}) for v in (*BAD_UUIDS, U)],
            *[("GET", f"/api/v1/organizations/{v}", {}) for v in (*BAD_UUIDS, U)],
            *_broken_json("/api/v1/schools"),
            ("POST", "/api/v1/schools", {"json": {"ogrn": "1" * 12 + NUL, "name": CTRL}}),
            (
                "POST",
                "/api/v1/schools",
                {"json": {"ogrn": "１０２７７００１３２１９５", "name": "x"}},
            ),
            ("POST", "/api/v1/schools", {"json": {"ogrn": "١٠٢٧٧٠٠١٣٢١٩٥", "name": "x"}}),
            ("POST", "/api/v1/schools", {"json": {"ogrn": "1027700132195", "name": NUL}}),
            *_broken_json("/api/v1/organizations"),
            (
                "POST",
                "/api/v1/organizations",
                {
                    "json": {
                        "kind": NUL,
                        "name": CTRL,
                        "inn": "١٢٣٤٥٦٧٨٩٠",
                        "ogrn": "１" * 13,
                        "address": NUL,
                        "storage_country": NUL,
                        "storage_location": CTRL,
                        "registry_number": NUL,
                    }
                },
            ),
            (
                "POST",
                "/api/v1/organizations",
                {
                    "json": {
                        "kind": "operator",
                        "name": CTRL,
                        "inn": "7707083893",
                        "ogrn": "1027700132195",
                        "address": NUL,
                        "storage_country": "RU",
                        "storage_location": CTRL,
                        "registry_number": NUL,
                    }
                },
            ),
            *_broken_json("/api/v1/clients"),
            *[("GET", f"/api/v1/clients/{v}", {}) for v in ("%00", quote(CTRL), "x" * 5000)],
            ("PUT", f"/api/v1/clients/{quote(NUL)}/binding", {"content": b"{", "headers": JSON}),
            ("DELETE", "/api/v1/clients/%00", {}),
            ("GET", "/api/v1/me/children", {"params": {"x": NUL}}),
        ],
    )
    add(
        "idp",
        "school",
        [
            (
                "POST",
                "/api/v1/schools/{school}/roster",
                {"content": b"", "headers": {"content-type": "text/csv"}},
            ),
            (
                "POST",
                "/api/v1/schools/{school}/roster",
                {"content": INVALID_UTF8 * 100, "headers": {"content-type": "text/csv"}},
            ),
            (
                "POST",
                "/api/v1/schools/{school}/roster",
                {
                    "content": b"a;b;c\n" + b'"' * 1000 + b"\n" + NUL.encode() * 100,
                    "headers": {"content-type": "text/csv"},
                },
            ),
            (
                "POST",
                "/api/v1/schools/{school}/roster",
                {"content": (b"x," * 50_000 + b"\n") * 30, "headers": {"content-type": "text/csv"}},
            ),
            ("POST", "/api/v1/schools/{school}/roster", {"content": b"{", "headers": JSON}),
            (
                "POST",
                "/api/v1/schools/{school}/roster",
                {"files": {"file": ("r.csv", INVALID_UTF8, "text/csv")}},
            ),
            ("GET", "/api/v1/schools/{school}/statuses", {"params": {"role": NUL}}),
            ("GET", "/api/v1/schools/{school}/statuses", {"params": {"role": CTRL}}),
            ("GET", "/api/v1/schools/{school}/roster", {"params": {"limit": HUGE_INT}}),
            (
                "POST",
                "/api/v1/schools/{school}/roster/preview",
                {
                    "content": b"PK\x03\x04" + INVALID_UTF8 * 100,
                    "headers": {"content-type": "text/csv"},
                },
            ),
            (
                "POST",
                "/api/v1/schools/{school}/roster/apply",
                {
                    "content": b"x",
                    "params": {"token": NUL},
                    "headers": {"content-type": "text/csv"},
                },
            ),
            ("GET", "/api/v1/schools/{school}/people", {"params": {"q": NUL, "class": CTRL}}),
            ("GET", "/api/v1/schools/{school}/people.csv", {"params": {"role": NUL}}),
            (
                "PATCH",
                "/api/v1/schools/{school}",
                {"content": b'{"short_name": [', "headers": JSON},
            ),
            ("PATCH", "/api/v1/schools/{school}", {"json": {"short_name": NUL}}),
            *_broken_json("/api/v1/schools/{school}/proctors"),
            ("POST", "/api/v1/schools/{school}/proctors", {"json": {"person_id": NUL}}),
            ("POST", "/api/v1/schools/{school}/proctors", {"json": {"person_id": U}}),
            *[("DELETE", f"/api/v1/schools/{{school}}/statuses/{v}", {}) for v in (*BAD_UUIDS, U)],
        ],
    )
    # OAuth 2 / OIDC protocol endpoints (anonymous: the protocol authenticates)
    basic_bad = {"authorization": "Basic !!!not-base64!!!"}
    basic_nul = {"authorization": "Basic " + "YQBiOmM="}  # "a\0b:c"
    oauth = [
        ("POST", "/oauth2/token", {"json": {"grant_type": "client_credentials"}}),
        ("POST", "/oauth2/token", {"content": b"grant_type=client_credentials"}),
        ("POST", "/oauth2/token", {"content": b"grant_type=\xff\xfe", "headers": FORM}),
        ("POST", "/oauth2/token", {"content": b"grant_type=%zz%&&==&", "headers": FORM}),
        ("POST", "/oauth2/token", {"content": b"grant_type=%00%ff%c3%28", "headers": FORM}),
        ("POST", "/oauth2/token", {"content": b"a=" + b"x" * HUGE, "headers": FORM}),
        (
            "POST",
            "/oauth2/token",
            {"data": {"grant_type": "client_credentials", "client_id": NUL, "client_secret": CTRL}},
        ),
        (
            "POST",
            "/oauth2/token",
            {"data": {"grant_type": "client_credentials"}, "headers": basic_bad},
        ),
        (
            "POST",
            "/oauth2/token",
            {"data": {"grant_type": "client_credentials"}, "headers": basic_nul},
        ),
        (
            "POST",
            "/oauth2/token",
            {
                "data": {
                    "grant_type": "authorization_code",
                    "code": NUL,
                    "redirect_uri": CTRL,
                    "client_id": "x",
                    "code_verifier": NUL,
                }
            },
        ),
        (
            "POST",
            "/oauth2/token",
            {"data": {"grant_type": "refresh_token", "refresh_token": CTRL, "client_id": NUL}},
        ),
        (
            "POST",
            "/oauth2/token",
            {
                "data": {
                    "grant_type": "client_credentials",
                    "client_assertion_type": JWT_BEARER,
                    "client_assertion": "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",
                }
            },
        ),
        (
            "POST",
            "/oauth2/token",
            {
                "data": {
                    "grant_type": "client_credentials",
                    "client_assertion_type": JWT_BEARER,
                    "client_assertion": "a.b.c",
                    "client_id": CTRL,
                }
            },
        ),
        ("POST", "/oauth2/token", {"data": {"grant_type": CTRL, "scope": NUL}}),
    ]
    for endpoint in ("/oauth2/introspect", "/oauth2/revoke"):
        oauth += [
            ("POST", endpoint, {"json": {"token": "x"}}),
            ("POST", endpoint, {"content": b"token=\xff", "headers": FORM}),
            ("POST", endpoint, {"data": {"token": NUL}, "headers": basic_bad}),
            (
                "POST",
                endpoint,
                {"data": {"token": CTRL, "token_type_hint": NUL}, "headers": basic_nul},
            ),
            ("POST", endpoint, {"content": b"token=" + b"x" * HUGE, "headers": FORM}),
        ]
    oauth += [
        ("GET", "/oauth2/authorize", {"params": {"client_id": NUL, "response_type": "code"}}),
        (
            "GET",
            "/oauth2/authorize",
            {
                "params": {
                    "client_id": "x",
                    "response_type": "code",
                    "redirect_uri": "javascript:alert(1)",
                    "scope": "openid",
                    "state": CTRL,
                    "max_age": HUGE_INT,
                }
            },
        ),
        ("GET", "/oauth2/authorize", {"params": {"max_age": "-1", "prompt": NUL}}),
        ("POST", "/oauth2/authorize", {"content": b"{", "headers": JSON}),
        ("POST", "/oauth2/authorize", {"content": b"client_id=\xff", "headers": FORM}),
        (
            "POST",
            "/oauth2/authorize",
            {"content": b"x", "headers": {"content-type": "multipart/form-data; boundary=zz"}},
        ),
        ("GET", "/oauth2/userinfo", {"headers": {"authorization": "Bearer garbage"}}),
        ("GET", "/oauth2/userinfo", {"headers": {"authorization": "Bearer a.b.c"}}),
        ("GET", "/oauth2/userinfo", {"headers": {"authorization": b"Bearer " + b"\xff" * 50}}),
        ("POST", "/oauth2/userinfo", {"headers": {"authorization": "Bearer eyJ9.eyJ9.AA"}}),
        ("GET", "/oauth2/logout", {"params": {"id_token_hint": "garbage"}}),
        ("GET", "/oauth2/logout", {"params": {"id_token_hint": CTRL, "client_id": NUL}}),
        (
            "GET",
            "/oauth2/logout",
            {"params": {"post_logout_redirect_uri": "http://evil", "client_id": NUL}},
        ),
        ("POST", "/oauth2/logout", {"content": b"id_token_hint=\xff", "headers": FORM}),
    ]
    # hostile compact JWS/JWT: as bearer tokens, token hints and client assertions
    for token in HOSTILE_JWS:
        oauth += [
            ("GET", "/oauth2/userinfo", {"headers": {"authorization": f"Bearer {token}"}}),
            ("POST", "/oauth2/introspect", {"data": {"token": token}, "headers": basic_bad}),
            ("GET", "/oauth2/logout", {"params": {"id_token_hint": token}}),
            (
                "POST",
                "/oauth2/token",
                {
                    "data": {
                        "grant_type": "client_credentials",
                        "client_id": "robustness-client",
                        "client_assertion_type": JWT_BEARER,
                        "client_assertion": token,
                    }
                },
            ),
            ("GET", "/api/v1/me", {"headers": {"authorization": f"Bearer {token}"}}),
        ]
    add("oauth2", "anonymous", oauth)
    add(
        "login",
        "anonymous",
        [
            ("GET", "/login/%00/callback", {}),
            ("GET", "/login/simulator/callback", {"params": {"code": NUL, "state": CTRL}}),
            ("POST", "/login/simulator/callback", {"content": b"\xff", "headers": FORM}),
            ("POST", "/login/simulator/callback", {"data": {"code": CTRL, "state": "x" * 10_000}}),
            (
                "GET",
                "/api/v1/me",
                {"cookies": {"propusk_session": CTRL.encode("unicode_escape").decode()}},
            ),
        ],
    )
    # consent: operator, supplier and the subject's side
    add(
        "consent",
        "operator",
        [
            *_broken_json("/api/v1/consent/templates"),
            (
                "POST",
                "/api/v1/consent/templates",
                {
                    "json": {
                        "key": NUL,
                        "text": CTRL,
                        "purpose": NUL,
                        "categories": [NUL, CTRL],
                        "actions": [NUL],
                        "term_days": -1,
                    }
                },
            ),
            ("POST", "/api/v1/consent/templates", {"json": {"key": "k", "term_days": 2**63}}),
            ("POST", "/api/v1/consent/templates", {"json": {"key": "k", "term_days": 10**40}}),
            (
                "POST",
                "/api/v1/consent/templates",
                {"json": {"key": "k", "categories": ["x"] * 50_000}},
            ),
            *[("GET", f"/api/v1/consent/templates/{v}", {}) for v in (*BAD_UUIDS, U)],
            *_broken_json("/api/v1/consent/requests"),
            (
                "POST",
                "/api/v1/consent/requests",
                {"json": {"template_id": NUL, "subject_id": CTRL}},
            ),
            (
                "POST",
                "/api/v1/consent/requests",
                {"json": {"template_id": U, "subject_id": U, "categories": [NUL], "purpose": CTRL}},
            ),
            *[("GET", f"/api/v1/consent/requests/{v}", {}) for v in (*BAD_UUIDS, U)],
            ("POST", f"/api/v1/consent/requests/{U}/revoke", {"json": {"reason": NUL}}),
            ("POST", f"/api/v1/consent/requests/{U}/revoke", {"content": b"{", "headers": JSON}),
            *[
                ("GET", "/api/v1/consent/feed", {"params": {"since": s, "limit": lim}})
                for s, lim in (
                    ("-1", "-1"),
                    (BIG_INT, "1"),
                    ("0", HUGE_INT),
                    ("x", NUL),
                    ("1e3", "0"),
                )
            ],
            *[
                (
                    "GET",
                    f"/api/v1/subjects/{v}/data",
                    {"params": {"purpose": "p", "categories": "c"}},
                )
                for v in BAD_UUIDS
            ],
            ("GET", f"/api/v1/subjects/{U}/data", {"params": {"purpose": NUL, "categories": CTRL}}),
            (
                "GET",
                f"/api/v1/subjects/{U}/data",
                {"params": {"purpose": "p", "categories": ",,,,"}},
            ),
            (
                "GET",
                f"/api/v1/subjects/{U}/data",
                {"params": {"purpose": "p", "categories": ",".join(["c"] * 10_000)}},
            ),
            *_broken_json("/api/v1/transfers/redeem"),
            ("POST", "/api/v1/transfers/redeem", {"json": {"ticket": "a.b.c"}}),
            ("POST", "/api/v1/transfers/redeem", {"json": {"ticket": NUL}}),
            (
                "POST",
                "/api/v1/transfers/redeem",
                {"json": {"ticket": "eyJhbGciOiJub25lIn0.eyJleHAiOjl9."}},
            ),
        ],
    )
    add(
        "consent",
        "supplier",
        [
            ("PUT", f"/api/v1/subjects/{U}/data/%00", {"json": {"value": 1}}),
            ("PUT", f"/api/v1/subjects/{U}/data/{quote(CTRL)}", {"json": {"value": CTRL}}),
            ("PUT", f"/api/v1/subjects/{U}/data/person.fullname", {"json": {"value": NUL}}),
            (
                "PUT",
                f"/api/v1/subjects/{U}/data/person.fullname",
                {"content": b"{", "headers": JSON},
            ),
            (
                "PUT",
                f"/api/v1/subjects/{U}/data/person.fullname",
                {"content": b'{"value": "' + b"x" * HUGE + b'"}', "headers": JSON},
            ),
            ("PUT", "/api/v1/subjects/not-a-uuid/data/person.fullname", {"json": {"value": 1}}),
            *_broken_json("/api/v1/transfers/tickets"),
            (
                "POST",
                "/api/v1/transfers/tickets",
                {
                    "json": {
                        "operator_id": NUL,
                        "subject_id": "x",
                        "purpose": CTRL,
                        "categories": [NUL],
                    }
                },
            ),
            (
                "POST",
                "/api/v1/transfers/tickets",
                {
                    "json": {
                        "operator_id": U,
                        "subject_id": U,
                        "purpose": CTRL,
                        "categories": ["c"] * 10_000,
                    }
                },
            ),
        ],
    )
    add(
        "consent",
        "admin",
        [
            *_broken_json("/api/v1/consent/catalogue"),
            ("PUT", "/api/v1/consent/catalogue", {"content": b"{", "headers": JSON}),
            (
                "PUT",
                "/api/v1/consent/catalogue",
                {"json": {"categories": [{"key": NUL}], "purposes": [{"key": CTRL}]}},
            ),
            ("PUT", "/api/v1/consent/catalogue", {"json": {"categories": [NUL, 1, None, []]}}),
            (
                "PUT",
                "/api/v1/consent/catalogue",
                {
                    "json": {
                        "categories": [{"key": "robust.nul", "title": "a" + NUL}],
                        "purposes": [],
                    }
                },
            ),
            (
                "PUT",
                "/api/v1/consent/catalogue",
                {"json": {"categories": [], "purposes": [{"key": "robust.nul", "title": CTRL}]}},
            ),
            *[("GET", f"/api/v1/consents/{v}", {}) for v in (*BAD_UUIDS, U)],
            *[("POST", f"/api/v1/consents/{v}/approve", {}) for v in ("not-a-uuid", U)],
            ("POST", f"/api/v1/consents/{U}/withdraw", {"content": b"{", "headers": JSON}),
            ("POST", f"/api/v1/consents/{U}/refuse", {"json": {"reason": NUL}}),
            ("POST", f"/api/v1/consents/{U}/suspend", {"json": [1, 2]}),
            *[
                ("GET", f"/api/v1/consents/{U}/receipt", {"params": {"event": v}})
                for v in ("-1", BIG_INT, HUGE_INT, NUL)
            ],
            *[
                ("GET", p, {"params": {"subject": v}})
                for p in ("/api/v1/me/consents", "/api/v1/me/requests", "/api/v1/me/data")
                for v in ("not-a-uuid", NUL, U)
            ],
            *[
                ("GET", "/api/v1/me/transfers", {"params": {"limit": v}})
                for v in ("-1", "0", BIG_INT, HUGE_INT)
            ],
            ("POST", "/api/v1/me/access-requests", {"params": {"subject": NUL}}),
            *[("GET", f"/api/v1/access-requests/{v}", {}) for v in (*BAD_UUIDS, U)],
            *[("GET", f"/api/v1/access-requests/{v}.html", {}) for v in ("not-a-uuid", "%00", U)],
            ("GET", "/api/v1/consent/destruction", {"params": {"limit": HUGE_INT}}),
            *[("POST", f"/api/v1/destruction/{v}/confirm", {}) for v in ("not-a-uuid", U)],
        ],
    )
    # biometrics
    bomb = _png_header(40_000, 40_000)
    tiny = _png_header(1, 1)
    add(
        "biometrics",
        "admin",
        [
            ("POST", "/api/v1/biometrics/enrolments", {"json": {"photos": ["x"]}}),
            (
                "POST",
                "/api/v1/biometrics/enrolments",
                {
                    "content": b"--zz\r\n",
                    "headers": {"content-type": "multipart/form-data; boundary=zz"},
                },
            ),
            (
                "POST",
                "/api/v1/biometrics/enrolments",
                {"files": {"photos": ("a.jpg", INVALID_UTF8, "image/jpeg")}},
            ),
            (
                "POST",
                "/api/v1/biometrics/enrolments",
                {"files": {"photos": ("a.jpg", b"", "image/jpeg")}},
            ),
            (
                "POST",
                "/api/v1/biometrics/enrolments",
                {"files": {"photos": ("a.png", tiny, "image/png")}},
            ),
            (
                "POST",
                "/api/v1/biometrics/enrolments",
                {"files": {"photos": ("bomb.png", bomb, "image/png")}},
            ),
            (
                "POST",
                "/api/v1/biometrics/enrolments",
                {"files": {"photos": ("a.jpg", b"\xff\xd8\xff" + b"\x00" * HUGE, "image/jpeg")}},
            ),
            (
                "POST",
                "/api/v1/biometrics/enrolments",
                {"files": {"photos": ("a.png", tiny, "image/png")}, "data": {"subject_id": NUL}},
            ),
            *[("GET", f"/api/v1/biometrics/enrolments/{v}", {}) for v in (*BAD_UUIDS, U)],
            *[("DELETE", f"/api/v1/biometrics/enrolments/{v}", {}) for v in ("not-a-uuid", U)],
        ],
    )
    add(
        "biometrics",
        "school",
        [
            ("POST", "/api/v1/exams/sessions/{exam}/start", {"json": {"x": NUL}}),
            (
                "POST",
                "/api/v1/exams/sessions/{exam}/frames",
                {"files": {"frame": ("f.jpg", INVALID_UTF8, "image/jpeg")}},
            ),
            (
                "POST",
                "/api/v1/exams/sessions/{exam}/frames",
                {"files": {"frame": ("f.png", bomb, "image/png")}},
            ),
            (
                "POST",
                "/api/v1/exams/sessions/{exam}/liveness",
                {"data": {"nonce": CTRL}, "files": {"frames": ("f.png", tiny, "image/png")}},
            ),
            (
                "POST",
                "/api/v1/exams/sessions/{exam}/liveness",
                {
                    "data": {"nonce": "x" * 100_000},
                    "files": {"frames": ("f.png", bomb, "image/png")},
                },
            ),
            (
                "POST",
                "/api/v1/exams/sessions/{exam}/takers/{person}/decision",
                {"json": {"decision": "manual_check", "note": CTRL}},
            ),
            (
                "POST",
                "/api/v1/exams/sessions/{exam}/takers/{person}/decision",
                {
                    "json": {
                        "decision": "verified",
                        "note": "паспорт предъявлен",
                        "identity_document": {"type": NUL, "number_last4": "١٢٣٤"},
                    }
                },
            ),
            (
                "POST",
                "/api/v1/exams/sessions/{exam}/takers/{person}/decision",
                {"content": b'{"decision": "verified"' + b" " * HUGE, "headers": JSON},
            ),
            ("GET", "/api/v1/exams/sessions/{exam}/takers/{person}/attestation", {}),
            ("GET", "/api/v1/exams/sessions/{exam}/takers/" + U + "/attestation", {}),
            *_broken_json("/api/v1/exams/sessions"),
            (
                "POST",
                "/api/v1/exams/sessions",
                {
                    "json": {
                        "school_id": "{school}",
                        "course": NUL,
                        "title": CTRL,
                        "opens_at": "not-a-date",
                        "closes_at": NUL,
                        "takers": [NUL],
                    }
                },
            ),
            (
                "POST",
                "/api/v1/exams/sessions",
                {
                    "json": {
                        "school_id": "{school}",
                        "course": "c",
                        "title": "t",
                        "opens_at": "9999-12-31T23:59:59+14:00",
                        "closes_at": "0001-01-01T00:00:00-14:00",
                        "takers": [U],
                        "keep_frames_days": -1,
                    }
                },
            ),
            (
                "POST",
                "/api/v1/exams/sessions",
                {
                    "json": {
                        "school_id": "{school}",
                        "course": "c",
                        "title": "t",
                        "opens_at": "2030-01-01T10:00:00Z",
                        "closes_at": "2029-01-01T10:00:00Z",
                        "takers": [U] * 5000,
                    }
                },
            ),
            *[("GET", f"/api/v1/exams/sessions/{v}", {}) for v in (*BAD_UUIDS, U)],
            ("POST", f"/api/v1/exams/sessions/{U}/start", {}),
            (
                "POST",
                f"/api/v1/exams/sessions/{U}/frames",
                {"files": {"frame": ("f.jpg", INVALID_UTF8, "image/jpeg")}},
            ),
            ("POST", f"/api/v1/exams/sessions/{U}/frames", {"data": {"frame": NUL}}),
            (
                "POST",
                f"/api/v1/exams/sessions/{U}/liveness",
                {"data": {"nonce": NUL}, "files": {"frames": ("f.png", bomb, "image/png")}},
            ),
            (
                "POST",
                f"/api/v1/exams/sessions/{U}/takers/{U}/decision",
                {"json": {"decision": NUL}},
            ),
            (
                "POST",
                f"/api/v1/exams/sessions/{U}/takers/not-a-uuid/decision",
                {"content": b"{", "headers": JSON},
            ),
            ("GET", f"/api/v1/exams/sessions/{U}/takers/%00/attestation", {}),
        ],
    )
    return c


def _nasty_params() -> list:
    params, seen = [], {}
    for family, caller, method, path, kwargs in _nasty_cases():
        base = f"{family}-{caller}-{method}-{path}"
        seen[base] = seen.get(base, 0) + 1
        case_id = f"{base}-{seen[base]}"
        reason = KNOWN_NASTY.get(case_id)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(caller, method, path, kwargs, id=case_id, marks=marks))
    return params


def _fill(value, target: Target):
    if isinstance(value, str):
        return (
            value.replace("{school}", str(target.school_id))
            .replace("{exam}", str(target.exam_id))
            .replace("{person}", str(target.person_id))
        )
    if isinstance(value, dict):
        return {k: _fill(v, target) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, target) for v in value]
    return value


@pytest.mark.parametrize(("caller", "method", "path", "kwargs"), _nasty_params())
def test_nasty_input(target, caller, method, path, kwargs) -> None:
    url = _fill(path, target)
    kwargs = dict(kwargs)
    for key in ("json", "data", "params"):
        if key in kwargs:
            kwargs[key] = _fill(kwargs[key], target)
    headers = dict(kwargs.pop("headers", {}))
    if caller != "anonymous":
        headers[CALLER_HEADER] = caller
    cookies = kwargs.pop("cookies", None)
    client = target.client
    if cookies:
        client.cookies.update(cookies)
    try:
        response = client.request(method, url, headers=headers, **kwargs)
    except Exception:  # an exception escaping the app is a 500
        pytest.fail(f"{method} {url}: exception escaped the app\n{escaped_error()}")
    finally:
        client.cookies.clear()
    check_response(
        method,
        path,
        response.status_code,
        response.headers.get("content-type", ""),
        response.content,
    )
