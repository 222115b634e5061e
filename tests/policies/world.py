"""Callers of every role in two schools and two organisations, the executable tables of
docs/access-matrix.md, and acting as a role over HTTP (a principal resolver installed on the
app, the kernel's extension point). A plain module: tests import it; ``conftest.py`` only
holds the fixtures built from it."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from propusk.security import ANONYMOUS, Principal, RoleGrant

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-matrix.md"
ROLE_COLUMNS = ("stu", "par", "tea", "sadm", "proc", "ostf", "op", "sup", "padm", "anon")
CALLER_HEADER = "X-Test-Caller"


@dataclass(frozen=True)
class World:
    """Two schools and two organisations, fresh per test (tables are shared by tests)."""

    school_a: str
    school_b: str
    org_x: str
    org_y: str
    callers: dict[str, Principal]

    def caller(self, column: str) -> Principal:
        return self.callers[column]


def _person(role: str, domain: str) -> Principal:
    pid = uuid.uuid4()
    return Principal(
        kind="person",
        subject=f"person:{pid}",
        person_id=pid,
        roles=(RoleGrant(role, domain),),
        channel="session",
    )


def _client(role: str, org: uuid.UUID) -> Principal:
    cid = f"{role}-{uuid.uuid4().hex[:12]}"
    return Principal(
        kind="client",
        subject=f"client:{cid}",
        client_id=cid,
        organization_id=org,
        roles=(RoleGrant(role, f"org:{org}"),),
    )


def make_world() -> World:
    a, b, x, y = (uuid.uuid4() for _ in range(4))
    school_a = f"school:{a}"
    org_x = f"org:{x}"
    admin_id = uuid.uuid4()
    callers = {
        "stu": _person("student", school_a),
        "par": _person("parent", school_a),
        "tea": _person("teacher", school_a),
        "sadm": _person("school_admin", school_a),
        "proc": _person("proctor", school_a),
        "ostf": _person("operator_staff", org_x),
        "op": _client("operator", x),
        "sup": _client("supplier", x),
        "padm": Principal(
            kind="platform_admin",
            subject=f"person:{admin_id}",
            person_id=admin_id,
            channel="session",
        ),
        "anon": ANONYMOUS,
    }
    return World(school_a, f"school:{b}", org_x, f"org:{y}", callers)


def read_table(marker: str) -> list[dict[str, str]]:
    """Rows of the markdown table between ``<!-- marker:start -->`` and ``:end``."""
    text = DOC.read_text(encoding="utf-8")
    body = text.split(f"<!-- {marker}:start -->", 1)[1].split(f"<!-- {marker}:end -->", 1)[0]
    lines = [ln.strip() for ln in body.strip().splitlines() if ln.strip().startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == len(header), f"bad row in {DOC.name}: {line}"
        rows.append(dict(zip(header, cells, strict=True)))
    return rows


def install_test_resolver(app, world: World) -> None:
    """Act as the caller named by a header (a real resolver on the kernel's hook)."""

    def resolve(request, session) -> Principal:
        return world.callers.get(request.headers.get(CALLER_HEADER, "anon"), ANONYMOUS)

    app.state.principal_resolver = resolve


PARAM = re.compile(r"\{([^}]+)\}")


def fill_path(path: str, world: World) -> str:
    """A route path with its parameters filled: school A for ``school_id``, fresh ids else."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name == "school_id":
            return world.school_a.split(":", 1)[1]
        if name in ("index", "tree_size"):
            return "1"
        return str(uuid.uuid4())

    return PARAM.sub(value, path)


def call(client, method: str, path: str, column: str):
    """One request as a role, with a minimal body of the kind the route reads."""
    headers = {CALLER_HEADER: column}
    if method not in ("POST", "PUT", "PATCH"):
        return client.request(method, path, headers=headers)
    if path.endswith("/roster"):  # reads text/csv before the policy check runs
        headers["content-type"] = "text/csv"
        return client.request(method, path, headers=headers, content=b"")
    return client.request(method, path, headers=headers, json={})
