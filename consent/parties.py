"""The parties of a consent: operators and suppliers, as consent sees them.

An organisation exists once, in the registry (``idp.models.Organization``: name, ИНН, ОГРН,
address, kind; its staff and its OAuth clients act in one domain ``org:<id>``). Registering it
for consent checks the registry numbers and primary storage in Russia (art. 18 part 5), completes
or creates the registry entry, adds consent's 1:1 profile (where the recipient is and stores the
data, its RKN registry number, its events feed) and binds its OAuth client — the one binding,
``oidc_client.organization_id``. ``Party`` is the read-only view the rest of consent works with;
every operator or supplier route starts with ``organization_of``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import repository as repo
from consent.models import OrganizationProfile
from idp import schools
from idp.models import Organization
from idp.oidc import clients
from propusk import caches
from propusk.errors import Conflict, Forbidden, Problem, ValidationProblem
from propusk.validators import inn_valid, ogrn_valid

PROFILE_FIELDS = (
    "country",
    "storage_country",
    "storage_location",
    "registry_number",
    "cross_border_notice_ref",
)
# Registered parties do not change (no update path; the registry refuses foreign storage), so
# the hot paths (the gate's party check, the pull lane's operator check) keep a positive answer.
PARTIES = caches.declare(
    caches.CacheSpec(
        "consent.parties",
        "organization id",
        "process lifetime (positive answers only)",
        "an operator's kind, storage and cross-border standing (gate, pull lane)",
        "nothing: a registered party does not change",
    )
)


@dataclass(frozen=True)
class Party:
    """A registered organisation with consent's profile: what documents, receipts, art. 14
    answers and the gate need to know about an operator or supplier."""

    id: uuid.UUID
    kind: str  # operator | supplier
    name: str
    inn: str
    ogrn: str
    address: str
    country: str  # where the recipient is (ISO 3166 alpha-2)
    storage_country: str
    storage_location: str
    registry_number: str
    cross_border_notice_ref: str | None


def _party(org: Organization, profile: OrganizationProfile) -> Party:
    return Party(
        id=org.id,
        kind=org.kind,
        name=org.name,
        inn=org.inn or "",
        ogrn=org.ogrn,
        address=org.address or "",
        country=profile.country,
        storage_country=profile.storage_country,
        storage_location=profile.storage_location,
        registry_number=profile.registry_number,
        cross_border_notice_ref=profile.cross_border_notice_ref,
    )


def get(session: Session, org_id: uuid.UUID) -> Party | None:
    """A registered party, or None (not in the registry or without a consent profile)."""
    return many(session, [org_id]).get(org_id)


def many(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Party]:
    """Several parties by id (two queries whatever their number)."""
    profiles = repo.profiles_by_ids(session, ids)
    if not profiles:
        return {}
    orgs = schools.organizations(session, list(profiles))
    return {
        org_id: _party(orgs[org_id], profile)
        for org_id, profile in profiles.items()
        if org_id in orgs
    }


def listing(session: Session, limit: int = 1000) -> list[tuple[Party, str | None]]:
    """Every registered party (by kind, then name) with the OAuth client it registered with."""
    found = many(session, repo.profile_ids(session, limit))
    firsts = clients.first_clients_of(session, list(found))
    ordered = sorted(found.values(), key=lambda p: (p.kind, p.name.casefold()))
    return [(party, firsts.get(party.id)) for party in ordered]


def client_of(session: Session, org_id: uuid.UUID) -> str | None:
    """The OAuth client the organisation registered with (the first bound to it), if any."""
    return clients.first_clients_of(session, [org_id]).get(org_id)


def register_organization(session: Session, data: dict[str, Any], *, actor: str) -> Party:
    """Register an operator or supplier; foreign primary storage is refused (art. 18 part 5).

    An organisation already in the registry (known from ESIA) is completed with the details
    given, not registered twice; one registered for consent already is a conflict."""
    _check_registration(session, data)
    org_id = schools.register_operator_org(
        session,
        data.get("esia_org_oid"),
        data["ogrn"],
        data["name"],
        kind=data["kind"],
        inn=data["inn"],
        address=data["address"],
        actor=actor,
    )
    if repo.get_profile(session, org_id) is not None:
        raise Conflict("an organisation with this ОГРН is registered", type="duplicate-ogrn")
    profile = {name: data.get(name) for name in PROFILE_FIELDS}
    repo.add(session, OrganizationProfile(id=org_id, **{**profile, "storage_country": "RU"}))
    if data.get("client_id"):
        clients.bind_client(session, data["client_id"], org_id, data["kind"], actor=actor)
    audit(
        session,
        "consent.organization.registered",
        actor=actor,
        body={"organization_id": str(org_id), "kind": data["kind"]},
    )
    party = get(session, org_id)
    assert party is not None  # just written in this transaction
    return party


def _check_registration(session: Session, data: dict[str, Any]) -> None:
    """Kind, registry numbers, storage in Russia, and a client not acting for another."""
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
    client_id = data.get("client_id")
    client = clients.get_client(session, client_id) if client_id else None
    if client is not None and client.organization_id is not None:
        raise Conflict("this client is bound to another organisation", type="client-bound")


def organization_of(session: Session, org_id: uuid.UUID | None, kind: str) -> Party:
    """The caller's organisation, which must be registered with ``kind``."""
    party = get(session, org_id) if org_id else None
    if party is None or party.kind != kind:
        raise Forbidden(f"the caller is not a registered {kind}", type="not-" + kind)
    return party
