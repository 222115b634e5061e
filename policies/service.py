"""Policy decisions and policy changes: the functions other packages call.

- ``authorize(principal, obj, act, domain=..., resource=...)`` inside handlers, once the
  resource is loaded (owner, guardian, same school, proctor of the session ...).
- ``set_subject_roles(session, subject, grants)`` from idp on every status change.
- ``add_rule`` / ``remove_rule`` / ``grant_role`` / ``revoke_role`` for platform admins.

Every change is a row in the history (its number is the policy version), an audit event
``policy.changed``, and a notification to every instance; nothing here commits.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from audit import service as audit
from policies import delegation, repository
from policies.engine import (
    RULES,
    Decision,
    PolicyEngine,
    current_engine,
    engine_for_session,
    load_snapshot,
)
from policies.model import CONDITIONS, MODEL_PATH, Grants, Row, read_file_policy
from propusk import caches
from propusk.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationProblem
from propusk.security import Principal

ROLES = (
    "student",
    "parent",
    "teacher",
    "school_admin",
    "proctor",
    "operator_staff",
    "operator_head",
    "operator",
    "supplier",
    "platform_admin",
    "authenticated",
)
ROLE_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
OBJECT_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
ACTION_RE = re.compile(r"^[a-z][a-z_]{1,31}$")
ID_PART = r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}"
# A concrete domain (requests, role links) and a domain pattern (p rows).
DOMAIN_RE = re.compile(rf"^(\*|(school|org):{ID_PART})$")
DOMAIN_PATTERN_RE = re.compile(rf"^(\*|(school|org):(\*|{ID_PART}))$")
SUBJECT_RE = re.compile(rf"^(person|client):{ID_PART}$")


# --- decisions ------------------------------------------------------------------------------


def principal_grants(principal: Principal) -> Grants:
    """The roles a principal carries (implicit links), plus the pseudo-role of every caller."""
    if principal.is_anonymous:
        return frozenset()
    grants = {(g.role, g.domain) for g in principal.roles}
    grants.add(("authenticated", "*"))
    if principal.kind == "platform_admin":
        grants.add(("platform_admin", "*"))
    return frozenset(grants)


def denial(decision: Decision, principal: Principal) -> Exception:
    """401 for an anonymous caller, else 403; both name the missing permission. A relying
    party's token refused by delegation gets ``insufficient_scope`` (RFC 6750 §3.1)."""
    refused: delegation.Refusal | None = decision.delegation
    if refused is not None:
        challenge = 'Bearer error="insufficient_scope"'
        if refused.scope:
            challenge += f', scope="{refused.scope}"'
        return Forbidden(
            refused.detail,
            type="insufficient-scope" if refused.scope else "not-delegable",
            headers={"WWW-Authenticate": challenge},
            permission=decision.permission,
            scope=refused.scope,
        )
    detail = f"missing permission {decision.permission} in domain {decision.domain}"
    extra = {"permission": decision.permission, "domain": decision.domain}
    if principal.is_anonymous:
        return Unauthorized(detail, headers={"WWW-Authenticate": 'Bearer realm="propusk"'}, **extra)
    return Forbidden(detail, **extra)


def decide(
    principal: Principal,
    obj: str,
    act: str,
    *,
    domain: str = "*",
    resource: Mapping[str, Any] | None = None,
    engine: PolicyEngine | None = None,
) -> Decision:
    """The decision without raising (for UIs that hide what a caller may not do).

    A relying party's token is first held to its scopes (``policies.delegation``): what they do
    not open is refused before any rule is consulted."""
    engine = engine or current_engine()
    if engine is None:
        raise RuntimeError("no policy engine installed (policies.wiring.install)")
    refused = delegation.refusal(principal, obj, act, resource)
    if refused is not None:
        return Decision(
            False, principal.subject, domain, obj, act, -1, via="delegation", delegation=refused
        )
    if not DOMAIN_RE.match(domain):
        return Decision(False, principal.subject, domain, obj, act, -1)
    return engine.decide(principal.subject, principal_grants(principal), domain, obj, act, resource)


def authorize(
    principal: Principal,
    obj: str,
    act: str,
    *,
    domain: str = "*",
    resource: Mapping[str, Any] | None = None,
    engine: PolicyEngine | None = None,
) -> Decision:
    """Allow or raise ``Forbidden`` (``Unauthorized`` if anonymous) naming ``obj:act``.

    ``resource`` carries the attributes conditions look at: ``subject`` (owner, a principal
    string), ``guardians`` (list of principal strings), ``schools`` (list of ``school:<id>``),
    ``organization`` (``org:<id>``), ``proctors`` and ``takers`` (lists of principal strings).
    Without a resource, conditional rules hold provisionally (the route-level check).
    """
    decision = decide(principal, obj, act, domain=domain, resource=resource, engine=engine)
    if not decision.allowed:
        raise denial(decision, principal)
    return decision


def _implicit_grants(subject: str) -> Grants:
    return frozenset({("authenticated", "*")}) if SUBJECT_RE.match(subject) else frozenset()


def explain(session: Session, subject: str, domain: str, obj: str, act: str) -> Decision:
    """Which rule allows ``subject`` to ``act`` on ``obj`` in ``domain``, or that none does.

    Uses the subject's stored role links (not grants a token may carry). Without a running
    engine for this database (the CLI) a fresh one is loaded from it.
    """
    _check_subject(subject, allow_anonymous=True)
    if not DOMAIN_RE.match(domain):
        raise ValidationProblem(f"invalid domain {domain!r}")
    engine = engine_for_session(session)
    if engine is not None:
        return engine.decide(subject, _implicit_grants(subject), domain, obj, act)
    once = PolicyEngine(None, snapshot=load_snapshot(session))
    return once.decide(subject, _implicit_grants(subject), domain, obj, act)


# --- reading the policy ---------------------------------------------------------------------


def list_policy(session: Session) -> dict[str, Any]:
    rules: list[dict[str, Any]] = [
        _rule_dict(row, None, "file") for row in dict.fromkeys(read_file_policy())
    ]
    rules += [
        _rule_dict((r.role, r.domain, r.obj, r.act, r.cond), r.id, "db")
        for r in repository.list_rules(session)
    ]
    return {
        "version": repository.current_version(session),
        "model": MODEL_PATH.read_text(encoding="utf-8"),
        "rules": rules,
        "role_links": repository.count_links(session),
    }


def _rule_dict(row: Row, rule_id: uuid.UUID | None, source: str) -> dict[str, Any]:
    role, domain, obj, act, cond = row
    return {
        "id": rule_id,
        "source": source,
        "role": role,
        "domain": domain,
        "object": obj,
        "action": act,
        "condition": cond,
    }


def history(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    return [
        {
            "version": c.version,
            "kind": c.kind,
            "actor": c.actor,
            "subject": c.subject,
            "detail": c.detail,
            "changed_at": c.changed_at,
        }
        for c in repository.history(session, limit)
    ]


def subject_roles(session: Session, subject: str) -> list[dict[str, str]]:
    _check_subject(subject)
    return [
        {"role": role, "domain": domain, "source": source}
        for role, domain, source in repository.links_of(session, subject)
    ]


# --- changing the policy --------------------------------------------------------------------


def validate_row(role: str, domain: str, obj: str, act: str, cond: str) -> Row:
    errors = []
    if not ROLE_RE.match(role):
        errors.append("role must be lower_snake_case")
    if not DOMAIN_PATTERN_RE.match(domain):
        errors.append("domain must be *, school:*, org:*, school:<id> or org:<id>")
    if not OBJECT_RE.match(obj) or len(obj) > 64:
        errors.append("object must be dotted lower_snake_case")
    if not ACTION_RE.match(act):
        errors.append("action must be lower_snake_case")
    if cond not in CONDITIONS:
        errors.append(f"condition must be one of {sorted(CONDITIONS)}")
    if errors:
        raise ValidationProblem("; ".join(errors), errors=errors)
    return (role, domain, obj, act, cond)


def add_rule(
    session: Session, actor: str, role: str, domain: str, obj: str, act: str, cond: str = "any"
) -> dict[str, Any]:
    row = validate_row(role, domain, obj, act, cond)
    if row in set(read_file_policy()) or repository.find_rule(session, row) is not None:
        raise Conflict("this rule is already in the policy", type="policy-rule-exists")
    rule = repository.add_rule(session, row, actor)
    detail = {"rule": _rule_dict(row, rule.id, "db") | {"id": str(rule.id)}}
    _changed(session, "rule.added", actor, None, detail)
    return _rule_dict(row, rule.id, "db")


def remove_rule(session: Session, actor: str, rule_id: uuid.UUID) -> None:
    rule = repository.get_rule(session, rule_id)
    if rule is None:
        raise NotFound("no such admin rule (file rules are changed by review, not the API)")
    row = (rule.role, rule.domain, rule.obj, rule.act, rule.cond)
    repository.delete_rule(session, rule)
    _changed(session, "rule.removed", actor, None, {"rule": _rule_dict(row, None, "db")})


def set_subject_roles(
    session: Session,
    subject: str,
    grants: Iterable[tuple[str, str]],
    *,
    actor: str = "system:idp",
) -> int:
    """Store the status-derived roles of a subject (replacing the previous ones).

    Called by idp on every status change. Bumps the policy version and, after commit, every
    instance reloads this subject's links and drops its cached decisions. Returns the version
    (unchanged if the grants are the same as stored).
    """
    _check_subject(subject)
    wanted = {_check_grant(role, domain) for role, domain in grants}
    current = {(r, d) for r, d, s in repository.links_of(session, subject) if s == "status"}
    if wanted == current:
        return repository.current_version(session)
    repository.replace_links(session, subject, "status", wanted)
    detail = {
        "added": sorted([r, d] for r, d in wanted - current),
        "removed": sorted([r, d] for r, d in current - wanted),
    }
    return _changed(session, "roles.set", actor, subject, detail)


def grant_role(session: Session, actor: str, subject: str, role: str, domain: str) -> int:
    """A role link granted by a platform admin (kept apart from status-derived links)."""
    _check_subject(subject)
    _check_grant(role, domain)
    if not repository.add_link(session, subject, role, domain, "admin"):
        raise Conflict("the subject already holds this role", type="policy-role-exists")
    return _changed(session, "roles.granted", actor, subject, {"role": role, "domain": domain})


def revoke_role(session: Session, actor: str, subject: str, role: str, domain: str) -> int:
    _check_subject(subject)
    if not repository.remove_link(session, subject, role, domain, "admin"):
        raise NotFound("no such admin-granted role link")
    return _changed(session, "roles.revoked", actor, subject, {"role": role, "domain": domain})


def _check_subject(subject: str, *, allow_anonymous: bool = False) -> None:
    if allow_anonymous and subject == "anonymous":
        return
    if not SUBJECT_RE.match(subject):
        raise ValidationProblem("subject must be person:<id> or client:<id>")


def _check_grant(role: str, domain: str) -> tuple[str, str]:
    if not ROLE_RE.match(role) or role == "authenticated":
        raise ValidationProblem(f"invalid role {role!r}")
    if not DOMAIN_RE.match(domain):
        raise ValidationProblem(f"invalid domain {domain!r} (school:<id>, org:<id> or *)")
    return role, domain


def _changed(
    session: Session, kind: str, actor: str, subject: str | None, detail: dict[str, Any]
) -> int:
    """History row (= new version), audit event, notification, local refresh after commit."""
    version = repository.record_change(session, kind, actor, subject, detail)
    audit.record(
        session,
        "policy.changed",
        actor=actor,
        subject=subject,
        body={"kind": kind, "version": version, **detail},
    )
    repository.notify(session, json.dumps({"version": version, "kind": kind}))
    _refresh_after_commit(session)
    return version


def _refresh_after_commit(session: Session) -> None:
    """The instance that made the change sees it as soon as it is committed (never before)."""
    caches.after_commit(session, RULES.name, session.get_bind())
