"""The route matrix of docs/access-matrix.md over HTTP: each role on each protected route gets
through the policy or gets 403 (401 when anonymous), as documented."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from policies.deps import iter_routes
from propusk.app import create_app
from propusk.runtime import build_runtime
from tests.policies.world import (
    CALLER_HEADER,
    ROLE_COLUMNS,
    call,
    fill_path,
    install_test_resolver,
    make_world,
    read_table,
)
from tests.support.settings import make_settings

ROWS = read_table("route-matrix")


def policy_refusal(response, method: str, path: str) -> int | None:
    """The status if the policy refused the call (problem+json naming the permission), else
    None: a handler's own 403 (e.g. an unregistered client) is past the policy."""
    if response.status_code not in (401, 403):
        return None
    if not response.headers["content-type"].startswith("application/problem+json"):
        return None
    body = response.json()
    return response.status_code if "permission" in body else None


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def matrix(request):
    """One app per database for the whole table (building an app per row is the slow part)."""
    name = "pg_database" if request.param == "postgres" else "sqlite_database"
    runtime = build_runtime(make_settings(request.getfixturevalue(name)))
    app = create_app(runtime=runtime)
    world = make_world()
    install_test_resolver(app, world)
    with TestClient(app, base_url="http://testserver") as client:
        yield client, app, world
    runtime.dispose()


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['method']} {r['path']}" for r in ROWS])
def test_route_matrix(matrix, row) -> None:
    world_client, app, world = matrix
    mounted = {(m, r.path) for r in iter_routes(app) for m in r.methods}
    if (row["method"], row["path"]) not in mounted:
        pytest.fail("the matrix lists a route the app does not mount: update docs/access-matrix.md")
    path = fill_path(row["path"], world)
    wrong = {}
    for column in ROLE_COLUMNS:
        response = call(world_client, row["method"], path, column)
        refused = policy_refusal(response, row["method"], row["path"])
        if row[column] == "Y":
            ok = refused is None
        else:
            ok = refused == (401 if column == "anon" else 403)
        if not ok:
            wrong[column] = (response.status_code, response.text[:200])
    assert wrong == {}


def test_refusal_names_the_missing_permission(world_client, world) -> None:
    response = world_client.get("/api/v1/policy", headers={CALLER_HEADER: "sadm"})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["permission"] == "policy:read"
    assert body["domain"] == "*"
    assert "policy:read" in body["detail"]


def test_anonymous_gets_401_with_a_challenge(world_client) -> None:
    response = world_client.get("/api/v1/policy")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["permission"] == "policy:read"


def test_every_guarded_route_refuses_anonymous(world_client, app, world) -> None:
    """Deny by default: no route that declares a policy lets an anonymous caller through."""
    leaks = []
    for route in iter_routes(app):
        if not route.api or route.policy is None:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            response = call(world_client, method, fill_path(route.path, world), "anon")
            if response.status_code != 401:
                leaks.append((method, route.path, response.status_code))
    assert leaks == []
