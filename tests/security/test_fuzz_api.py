"""Hostile input at scale (issue 16): Schemathesis against the app's own ``/openapi.json``,
as each main role, in a lived-in world on PostgreSQL.

Every operation of the document is called with generated requests — valid ones (positive),
schema-violating ones (negative), and path ids drawn from the real rows of the world
(``tests/support/fuzz_world.py``: consents in every state, the school, the exam session, the
operator's obligations …) as well as generated ones — by each role through its real
credentials (login session cookie, a relying party's bearer token, client_credentials tokens),
in-process through the whole ASGI stack (``propusk.lanes``: the edge and outer lanes, the body
limit, the security headers, FastAPI). Each answer must be

* no server error (Schemathesis ``not_a_server_error``; an exception escaping the app counts);
* declared: its status code, its content type and its body's schema are those of the
  operation's ``responses`` (``status_code_conformance``, ``content_type_conformance``,
  ``response_schema_conformance``, ``response_headers_conformance``);
* a refusal of the JSON API is RFC 9457 ``application/problem+json`` with ``type``, ``title``
  and a ``status`` equal to the response's.

Bounded in ``make test`` (``examples_for``: ``EXAMPLES`` per operation a role may reach, the
policy's refusals once per operation as the anonymous caller and the relying party; Hypothesis
derandomised: the same generation on every run, drawing from the ids of that run's world —
a failure prints the request to reproduce); ``make fuzz`` runs the same
module long (``PROPUSK_FUZZ_LONG=1``: every role on every operation, ``PROPUSK_FUZZ_EXAMPLES``
and ``PROPUSK_FUZZ_REFUSED`` per operation) and feeds the ids the answers create back into the
pools the next requests draw from (what Schemathesis' stateful links would do: the document
declares no links).

The roles run in one test, in order: they share one world, built once, and the platform
administrator — who may delete clients and policy rules — runs last.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st
from schemathesis import checks as st_checks
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi as st_asgi
from sqlalchemy import text
from sqlalchemy.engine import make_url

from idp.oidc.principal import SESSION_COOKIE
from propusk.errors import PROBLEM_JSON
from propusk.runtime import build_runtime
from tests.support.fuzz_world import credentials
from tests.support.operations import Operation, fuzz_settings, granted, operations
from tests.support.settings import PG_URL, make_settings

pytestmark = pytest.mark.postgres

EXAMPLES = int(os.environ.get("PROPUSK_FUZZ_EXAMPLES", "2"))  # per operation a role reaches
REFUSED = int(os.environ.get("PROPUSK_FUZZ_REFUSED", "1"))  # per operation the policy refuses
LONG = os.environ.get("PROPUSK_FUZZ_LONG") == "1"  # make fuzz: every role on everything
# The order of the roles: whoever may destroy what the others use runs last.
ROLES = (
    "anonymous",
    "parent",
    "student",
    "teacher",
    "proctor",
    "operator_staff",
    "operator_head",
    "operator_client",
    "supplier_client",
    "relying_party",
    "school_admin",
    "platform_admin",
)
PARTICIPANTS = ("parent", "student", "relying_party")
POLICY_ROLE = {
    "operator_client": "operator",
    "supplier_client": "supplier",
    "relying_party": "parent",
}
# The browser's protocol endpoints end the caller's login (logout) or start one: never called
# with a login session's cookie.
ANONYMOUS_ONLY = ("/oauth2/", "/login")
BEARERS = ("relying_party", "operator_client", "supplier_client")
SESSION_ROLES = tuple(r for r in ROLES if r not in (*BEARERS, "anonymous"))
USERINFO = "/oauth2/userinfo"
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]


def _reaches(role: str, op: Operation, grants: dict[str, set[tuple[str, str]]]) -> str | None:
    """How the role reaches the operation: "public", "role" (the policy gives it to the role),
    "everyone" (to every authenticated caller), or None (the policy refuses it)."""
    if op.public:
        return "public"
    if role == "anonymous" or op.policy is None:
        return None
    if op.policy in grants.get(POLICY_ROLE.get(role, role), set()):
        return "role"
    return "everyone" if op.policy in grants.get("authenticated", set()) else None


def examples_for(role: str, op: Operation, grants: dict[str, set[tuple[str, str]]]) -> int:
    """The plan. Long (``make fuzz``): every role on every operation. Bounded (``make test``):
    each role on what the policy gives it; what every person may (their own cabinet) as the
    participants (parent, student) and the relying party; the refusals (uniform: the guard
    answers before the route) as the anonymous caller (401) and the relying party (403, held
    to its scopes)."""
    if op.path.startswith(ANONYMOUS_ONLY) and role in SESSION_ROLES:
        return 0  # logout would end the role's login; the login pages are the browser's
    how = _reaches(role, op, grants)
    if op.path == USERINFO and role == "relying_party":
        return EXAMPLES  # the relying party's own use of the person's token
    if how is None:
        return REFUSED if LONG or role in ("anonymous", "relying_party") else 0
    if how == "everyone" and not LONG and role not in PARTICIPANTS:
        return 0
    if how == "public" and not LONG and role != "anonymous":
        return 0
    return EXAMPLES


# -- the world (PostgreSQL, seeded once) -------------------------------------------------------
@pytest.fixture(scope="module")
def fuzz_db(pg_admin, pg_template) -> Iterator[str]:
    """A fresh database of the module's own: the fuzzer writes at random."""
    name = f"propusk_fuzz_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    yield url
    with pg_admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="module")
def world(fuzz_db):
    from fastapi.testclient import TestClient

    from propusk.app import create_app
    from tests.support.fuzz_world import build_world

    rt = build_runtime(make_settings(fuzz_db))
    app = create_app(runtime=rt)
    with TestClient(app, base_url="http://testserver") as http:  # start-up: keys, sequencer
        w = build_world(rt, http)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate operation ids of GET/POST routes
            w.schema = schemathesis.openapi.from_dict(http.get("/openapi.json").json())
        w.schema.app = w.app = app
        yield w
    rt.dispose()


# -- the checks -----------------------------------------------------------------------------------
def problem_failure(path: str, status: int, content_type: str, content: bytes) -> str | None:
    """A refusal of the JSON API that is not an RFC 9457 problem (None: it is one)."""
    if not (400 <= status < 600 and path.startswith("/api/")):
        return None
    if content_type.split(";")[0].strip().lower() != PROBLEM_JSON:
        return f"{status} is {content_type!r}, not {PROBLEM_JSON}"
    try:
        body = json.loads(content)
    except ValueError:
        return f"{status}: the problem is not JSON"
    if not isinstance(body, dict):
        return f"{status}: the problem is not an object"
    if not (isinstance(body.get("type"), str) and isinstance(body.get("title"), str)):
        return f"{status}: the problem lacks type or title: {body}"
    if body.get("status") != status:
        return f"{status}: the problem's status member is {body.get('status')!r}"
    return None


def _with_real_ids(operation, mode: GenerationMode, pools: dict[str, list[str]]):
    """Cases whose path ids name real rows of the world (when every path parameter has some)."""
    names = [p.name for p in operation.path_parameters]
    if not names or any(n not in pools for n in names):
        return None
    choices = st.tuples(*[st.sampled_from(pools[n]) for n in names])
    return choices.flatmap(
        lambda values: operation.as_strategy(
            mode, path_parameters=dict(zip(names, values, strict=True))
        )
    )


def _strategy(operation, pools: dict[str, list[str]]):
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        try:
            strategies.append(operation.as_strategy(mode))
        except Exception:  # nothing in this operation can be made invalid
            continue
        real = _with_real_ids(operation, mode, pools)
        if real is not None:
            strategies += [real, real]  # mostly real objects
    return st.one_of(strategies)


def _harvest(method: str, status: int, content: bytes, path: str, pools) -> None:
    """make fuzz: the id of what a request created joins the pool of its path parameter."""
    if method != "POST" or status != 201:
        return
    try:
        body = json.loads(content)
    except ValueError:
        return
    if not isinstance(body, dict) or not isinstance(body.get("id"), str):
        return
    collection = path.rstrip("/").rsplit("/", 1)[-1]
    name = {
        "schools": "school_id",
        "organizations": "org_id",
        "templates": "template_id",
        "requests": "consent_id",
        "sessions": "exam_id",
        "clients": "client_id",
        "rules": "rule_id",
    }.get(collection)
    if name and body["id"] not in pools.setdefault(name, []):
        pools[name].append(body["id"])


STRATEGIES: dict[tuple[str, str], object] = {}


def _cached_strategy(operation, pools: dict[str, list[str]]):
    """Built once per operation (the roles share it); rebuilt in the long run, whose pools
    grow."""
    key = (operation.method, operation.path)
    if LONG or key not in STRATEGIES:
        STRATEGIES[key] = _strategy(operation, pools)
    return STRATEGIES[key]


def _without_credentials(case) -> None:
    """Drop what Schemathesis generates for the security schemes (a random bearer token or
    session cookie would make every request of a role a 401); the anonymous caller keeps them:
    garbage credentials are its hostile input."""
    for name in list(case.headers or {}):
        if name.lower() == "authorization":
            del case.headers[name]
    if case.cookies:
        case.cookies.pop(SESSION_COOKIE, None)


def fuzz(world, role: str, operation, examples: int, failures: list[str]) -> Counter[int]:
    """Run one operation as one role; failures are appended (one per distinct problem).
    Returns how many answers of each status it got."""
    client = st_asgi.get_client(world.app)
    headers = world.headers[role]
    method, path = operation.method.upper(), operation.path
    seen: set[str] = set()
    statuses: Counter[int] = Counter()

    def fail(kind: str, message: str, case) -> None:
        key = f"{kind}:{message.splitlines()[0][:120]}"
        if key in seen:
            return
        seen.add(key)
        failures.append(
            f"[{role}] {method} {path}: {message}\n    reproduce: {case.formatted_path} "
            f"query={case.query!r} body={str(case.body)[:300]!r}"
        )

    @fuzz_settings(examples)
    @given(case=_cached_strategy(operation, world.pools))
    def run(case) -> None:
        if role != "anonymous":  # the role's own credentials, not generated ones
            _without_credentials(case)
        try:
            response = case.call(session=client, headers=headers)
        except Exception as exc:  # an exception escaping the app is a 500
            fail("escaped", f"exception escaped the app: {type(exc).__name__}: {exc}", case)
            return
        finally:
            client.cookies.clear()  # a Set-Cookie must not carry over to the next request
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis' group: one per check
            for one in getattr(exc, "exceptions", None) or [exc]:
                fail("check", " ".join(str(one).split())[:500], case)
        ctype = response.headers.get("content-type") or [""]
        problem = problem_failure(path, response.status_code, ctype[0], response.content)
        if problem:
            fail("problem", problem, case)
        if LONG:
            _harvest(method, response.status_code, response.content, path, world.pools)

    run()
    return statuses


OPERATIONS = operations()
GRANTED = granted()


def fuzz_as(world, role: str, failures: list[str]) -> Counter[int]:
    """Every operation as this role: what it may reach with several examples, what the policy
    refuses it with ``REFUSED`` (the refusal itself must be declared)."""
    statuses: Counter[int] = Counter()
    world.headers[role] = credentials(world, role)
    for op in OPERATIONS:
        examples = examples_for(role, op, GRANTED)
        if examples <= 0:
            continue
        if LONG:  # tokens expire (``access_token_ttl``) before a long run ends
            world.headers[role] = credentials(world, role)
        statuses += fuzz(world, role, world.schema[op.path][op.method], examples, failures)
    return statuses


def test_fuzz_api_as_each_role(world) -> None:
    """The roles in order (``ROLES``; ``PROPUSK_FUZZ_ROLES=parent,student`` for some): one test,
    so that one worker builds the world once (``xdist_group`` is ignored by the installed
    pytest-xdist under pytest 9) and the platform administrator comes last."""
    wanted = os.environ.get("PROPUSK_FUZZ_ROLES")
    roles = [r for r in ROLES if not wanted or r in wanted.split(",")]
    failures: list[str] = []
    for role in roles:
        before = len(failures)
        statuses = fuzz_as(world, role, failures)
        answered = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
        found = len(failures) - before
        print(f"{role}: {statuses.total()} requests ({answered}), {found} failures")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures)
