"""The access model: what a rule row is, the Casbin model and its compiled matcher, the
attribute conditions the matcher calls, and the reviewed default rules (``policy.csv``).

Everything here is about *one* decision against *one* set of rules; keeping several instances
current (snapshots, cache, reloads) is ``policies.engine``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import casbin
from casbin.model.policy_fast import fast_policy_filter

from policies.role_links import FlatRoleManager

PACKAGE_DIR = Path(__file__).resolve().parent
MODEL_PATH = PACKAGE_DIR / "model.conf"
POLICY_PATH = PACKAGE_DIR / "policy.csv"

CONDITIONS = frozenset({"any", "owner", "guardian", "same_school", "same_org", "proctor", "taker"})
Row = tuple[str, str, str, str, str]  # role, domain pattern, object, action, condition
Grants = frozenset[tuple[str, str]]


# --- model functions ------------------------------------------------------------------------


class RequestContext:
    """``r.ctx``: what the matcher needs beyond strings (grants, the loaded resource)."""

    __slots__ = ("grants", "resource")

    def __init__(self, grants: Grants, resource: Mapping[str, Any] | None) -> None:
        self.grants = grants
        self.resource = resource


def grant_function(ctx: RequestContext, role: str, domain: str) -> bool:
    """The principal's own grants (implicit links): in the request domain or everywhere."""
    grants = ctx.grants
    return (role, domain) in grants or (role, "*") in grants


def _contains(values: Any, item: str) -> bool:
    return bool(values) and item in values


def condition_function(cond: str, sub: str, dom: str, ctx: RequestContext) -> bool:
    """Attribute condition of a ``p`` row.

    Without a resource (the route-level check) a known condition holds provisionally: the
    handler loads the resource and calls ``authorize(..., resource=...)``, where it is decided.
    """
    if cond == "any":
        return True
    res = ctx.resource
    if res is None:
        return cond in CONDITIONS
    if cond == "owner":
        return res.get("subject") == sub
    if cond == "guardian":
        return _contains(res.get("guardians"), sub)
    if cond == "same_school":
        return _contains(res.get("schools"), dom)
    if cond == "same_org":
        return res.get("organization") == dom
    if cond == "proctor":
        return _contains(res.get("proctors"), sub)
    if cond == "taker":
        return _contains(res.get("takers"), sub)
    return False


def normalize_resource(resource: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Strings for scalars, frozensets for lists, so handlers may pass UUIDs and lists."""
    if resource is None:
        return None
    out: dict[str, Any] = {}
    for key, value in resource.items():
        if isinstance(value, (list, tuple, set, frozenset)):
            out[key] = frozenset(str(v) for v in value)
        elif value is None:
            out[key] = None
        else:
            out[key] = str(value)
    return out


# --- the enforcer ---------------------------------------------------------------------------


class CompiledMatcher:
    """The matcher compiled to Python bytecode once, evaluated per ``p`` row.

    pycasbin interprets the matcher with simpleeval and re-parses it on every call (about
    20 µs per row plus 100 µs per call here). The matcher text comes from ``model.conf``, which
    is reviewed code; policy rows and requests only ever arrive as values of its names, so
    compiling it is as safe as importing a module.
    """

    __slots__ = ("code", "scope")

    def __init__(self, expr: str, functions: Mapping[str, Any] | None) -> None:
        expr = expr.replace("&&", " and ").replace("||", " or ")
        expr = re.sub(r"!(?!=)", " not ", expr)
        self.code = compile(expr.strip(), "<casbin matcher>", "eval")
        self.scope: dict[str, Any] = {"__builtins__": {}, **(functions or {})}

    def eval(self, names: dict[str, Any]) -> Any:
        return bool(eval(self.code, self.scope, names))


class PolicyEnforcer(casbin.FastEnforcer):
    """FastEnforcer (p rows pre-filtered by object and action) with a compiled matcher.

    Not thread-safe by itself (the pre-filter mutates the policy): ``PolicyEngine`` serialises
    calls.
    """

    def __init__(self, rows: Iterable[Row], model_text: str | None = None) -> None:
        if model_text is None:
            super().__init__(str(MODEL_PATH), cache_key_order=[2, 3])
        else:  # another formulation of the model (the bench compares them)
            self._cache_key_order = [2, 3]
            super().__init__(self.new_model(text=model_text), cache_key_order=[2, 3])
        self._expressions: dict[str, CompiledMatcher] = {}
        self.links = FlatRoleManager()
        self.set_role_manager(self.links)
        self.build_role_links()
        self.add_function("grant", grant_function)
        self.add_function("cond", condition_function)
        rows = [list(r) for r in dict.fromkeys(tuple(r) for r in rows)]
        if rows:
            self.get_model().add_policies("p", "p", rows)

    def _get_expression(self, expr: str, functions: dict | None = None) -> CompiledMatcher:
        """pycasbin's hook for the matcher: compiled once per expression, not parsed per call."""
        cached = self._expressions.get(expr)
        if cached is None:
            cached = self._expressions[expr] = CompiledMatcher(expr, functions)
        return cached

    def enforce_ex(self, *rvals: Any) -> tuple[bool, list[str]]:
        keys = [rvals[i] for i in self._cache_key_order]
        with fast_policy_filter(self.model.model["p"]["p"].policy, *keys):
            return casbin.Enforcer.enforce_ex(self, *rvals)


# --- the reviewed default rules -------------------------------------------------------------


def read_file_policy(path: Path = POLICY_PATH) -> list[Row]:
    """The reviewed default policy: ``p, role, domain, object, action, condition`` lines."""
    rows: list[Row] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.split(",")]
        if parts[0] != "p" or len(parts) != 6:
            raise ValueError(f"{path.name}:{number}: expected 'p, role, domain, obj, act, cond'")
        if parts[5] not in CONDITIONS:
            raise ValueError(f"{path.name}:{number}: unknown condition {parts[5]!r}")
        rows.append((parts[1], parts[2], parts[3], parts[4], parts[5]))
    return rows
