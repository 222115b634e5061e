"""The staff of an operator organisation, kept by its head.

ESIA's ``/roles`` make an employee of a registered operator its ``operator_staff`` and its
chief or profile administrator its ``operator_head`` (``idp.login``, at every login). ESIA
lists only the employees joined to the organisation's ESIA profile; the head appoints the
others who work on its personal data (an employee not joined there yet, a person of a processor
acting on its instructions) and ends those appointments. The head finds the person by SNILS
(from the HR file; the person must have logged in to Propusk once) — the answer names them, and
the SNILS is never shown back or written to the audit log. Statuses from ESIA end only there.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from idp import repository as repo
from idp.guardianship import age_group, local_date
from idp.identity import kek_of
from idp.models import Organization, Status
from idp.schools import get_organization
from idp.statuses import active_statuses, end_status, grant_status
from propusk import crypto
from propusk.db import utcnow
from propusk.errors import Conflict, NotFound, ValidationProblem
from propusk.settings import Settings
from propusk.validators import normalize_snils


def operator(session: Session, org_id: uuid.UUID) -> Organization:
    """A registered operator organisation, else 404."""
    org = get_organization(session, org_id)
    if org is None or org.kind != "operator":
        raise NotFound("no such operator organisation", type="organization-not-found")
    return org


def staff_of(session: Session, org_id: uuid.UUID) -> list[Status]:
    """The organisation's active statuses (staff and heads), oldest first per role."""
    operator(session, org_id)
    return repo.organization_statuses(session, org_id, utcnow())


def appoint(
    session: Session, settings: Settings, org_id: uuid.UUID, snils: str, *, actor: str
) -> Status:
    """The head appoints a person (found by SNILS) as the organisation's staff."""
    operator(session, org_id)
    try:
        digits = normalize_snils(snils)
    except ValueError as exc:
        raise ValidationProblem("the SNILS is not valid", type="invalid-snils") from exc
    found = repo.persons_by_snils_hashes(
        session, [crypto.lookup_hash(kek_of(settings), "snils", digits)]
    )
    if not found:
        raise NotFound("no person with this SNILS has logged in yet", type="person-not-found")
    person = found[0]
    if age_group(person, local_date(utcnow())) != "adult":  # staff handle others' data
        raise ValidationProblem("a minor cannot be appointed staff", type="staff-minor")
    if any(
        s.role == "operator_staff" and s.organization_id == org_id
        for s in active_statuses(session, person.id)
    ):
        raise Conflict("already staff of this organisation", type="staff-exists")
    return grant_status(
        session, person.id, "operator_staff", "appointment", organization_id=org_id, actor=actor
    )


def end(session: Session, org_id: uuid.UUID, status_id: uuid.UUID, *, actor: str) -> Status:
    """End an appointment of the organisation; ESIA's statuses end only at ESIA (409)."""
    status = repo.get_status(session, status_id)
    if status is None or status.organization_id != org_id or status.revoked_at is not None:
        raise NotFound("no such active status in this organisation", type="status-not-found")
    if status.source != "appointment":
        raise Conflict(
            "a status from ESIA ends at ESIA, not by hand", type="organization-status-derived"
        )
    return end_status(session, status, actor=actor, reason="ended by the operator's head")
