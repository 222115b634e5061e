"""The parties of a consent: operators and suppliers registered with Propusk.

An organisation is registered once (ИНН/ОГРН check digits, primary storage in Russia, one ОГРН,
one OAuth client); the idp registry shares its id, so the operator's staff and its OAuth clients
act in one domain ``org:<id>``. Every operator or supplier route starts with
``organization_of``: the caller's organisation, registered with the kind the route needs.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import repository as repo
from consent.models import Organization
from idp import service as idp
from idp.oidc import service as oidc
from propusk.errors import Conflict, Forbidden, Problem, ValidationProblem
from propusk.validators import inn_valid, ogrn_valid


def register_organization(session: Session, data: dict[str, Any], *, actor: str) -> Organization:
    """Register an operator or supplier; foreign primary storage is refused (art. 18 part 5)."""
    _check_registration(session, data)
    client_id = data.get("client_id")
    esia_org_oid = data.pop("esia_org_oid", None)
    org = Organization(**{**data, "storage_country": "RU"})
    repo.add(session, org)
    _register_in_idp(session, org, esia_org_oid, actor)
    if client_id:
        oidc.bind_client(session, client_id, org.id, org.kind, actor=actor)
    audit(
        session,
        "consent.organization.registered",
        actor=actor,
        body={"organization_id": str(org.id), "kind": org.kind},
    )
    return org


def _check_registration(session: Session, data: dict[str, Any]) -> None:
    """Kind, registry numbers, storage in Russia, and no second registration of the ОГРН or
    the client."""
    if data["kind"] not in ("operator", "supplier"):
        raise ValidationProblem("kind must be operator or supplier")
    if not inn_valid(data["inn"]):
        raise ValidationProblem("ИНН check digits are wrong", type="invalid-inn")
    if not ogrn_valid(data["ogrn"]):
        raise ValidationProblem("ОГРН check digit is wrong", type="invalid-ogrn")
    if data["storage_country"].upper() != "RU":
        raise Problem(
            "primary storage of Russian citizens' personal data must be in Russia "
            "(152-FZ art. 18 part 5)",
            status=422,
            type="storage-outside-russia",
        )
    if repo.organization_by_ogrn(session, data["ogrn"]) is not None:
        raise Conflict("an organisation with this ОГРН is registered", type="duplicate-ogrn")
    client_id = data.get("client_id")
    if client_id and repo.organization_by_client(session, client_id) is not None:
        raise Conflict("this client is bound to another organisation", type="client-bound")


def _register_in_idp(
    session: Session, org: Organization, esia_org_oid: str | None, actor: str
) -> None:
    """One registry: the idp organisation shares this id, so operator staff (ESIA employees →
    ``operator_staff`` in ``org:<id>``) and the operator's OAuth clients share one domain."""
    idp.register_operator_org(
        session,
        esia_org_oid,
        org.ogrn,
        org.name,
        kind=org.kind,
        organization_id=org.id,
        actor=actor,
    )


def organization_of(session: Session, org_id: uuid.UUID | None, kind: str) -> Organization:
    """The caller's organisation, which must be registered with ``kind``."""
    org = repo.get_organization(session, org_id) if org_id else None
    if org is None or org.kind != kind:
        raise Forbidden(f"the caller is not a registered {kind}", type="not-" + kind)
    return org
