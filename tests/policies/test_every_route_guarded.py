"""Every route of the service declares a policy (object, action), unless it is public."""

from __future__ import annotations

from policies.deps import iter_routes
from policies.model import read_file_policy


def test_every_api_route_declares_a_policy(app) -> None:
    routes = list(iter_routes(app))
    api = [r for r in routes if r.api]
    assert any(r.path.startswith("/api/v1/policy") for r in api)  # the walk sees included routers
    unguarded = sorted(
        f"{'/'.join(sorted(r.methods))} {r.path}" for r in api if r.policy is None and not r.public
    )
    assert unguarded == [], "routes without require(obj, act) or x-public: " + ", ".join(unguarded)


def test_public_routes_declare_no_policy(app) -> None:
    """A route is either public or guarded, never both (a public mark would hide a policy)."""
    both = [r.path for r in iter_routes(app) if r.public and r.policy is not None]
    assert both == []


def test_declared_objects_are_in_the_policy_vocabulary(app) -> None:
    """A route naming an object/action with no rule at all could never be called."""
    known = {(obj, act) for _, _, obj, act, _ in read_file_policy()}
    unknown = sorted({r.policy for r in iter_routes(app) if r.policy and r.policy not in known})
    assert unknown == []
