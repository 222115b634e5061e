"""People and schools API: own profile, schools, rosters, statuses, proctor appointments.

Every route declares its (object, action) with ``require``; school-scoped routes name the
``school:<id>`` domain from the path, and ``/me`` checks the owner attribute in the handler.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request

from idp import claims, guardianship, identity, schools, statuses
from idp import roster as roster_service
from idp.models import Person, Status
from idp.schemas import (
    EndedStatusOut,
    MeOut,
    NamedStatusOut,
    PersonBrief,
    PersonOut,
    ProctorIn,
    RosterEntryOut,
    RosterImportOut,
    SchoolIn,
    SchoolOut,
    StatusOut,
)
from policies import service as policies
from propusk.deps import SessionDep, SettingsDep, require
from propusk.errors import Forbidden, NotFound, Problem
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["people"])

MAX_ROSTER_BYTES = roster_service.MAX_BYTES
# A school being registered has no domain yet: only platform-wide roles hold "school:new".
NEW_SCHOOL = "school:new"


def _person_id(principal: Principal) -> uuid.UUID:
    if principal.person_id is None:
        raise Forbidden("this route is for people, not clients", type="person-only")
    return principal.person_id


def _brief(person: Person) -> PersonBrief:
    return PersonBrief(
        id=person.id,
        name=identity.full_name(person),
        birth_date=person.birth_date,
        age_group=guardianship.age_group(person),
    )


# --- own profile --------------------------------------------------------------------------
@router.get("/me", response_model=MeOut)
def me(session: SessionDep, principal: Principal = require("person", "read")) -> MeOut:
    """The caller's person, active school statuses and current children."""
    person = identity.get_person(session, _person_id(principal))
    policies.authorize(principal, "person", "read", resource={"subject": principal.subject})
    if person is None:
        raise Forbidden("the token's person no longer exists")
    active = statuses.active_statuses(session, person.id)
    return MeOut(
        id=person.id,
        last_name=person.last_name,
        first_name=person.first_name,
        middle_name=person.middle_name,
        birth_date=person.birth_date,
        age_group=guardianship.age_group(person),
        email=person.email,
        trusted=person.trusted,
        statuses=claims.describe_statuses(session, active),
        organization_statuses=claims.describe_organization_statuses(session, active),
        platform_admin=any(s.role == "platform_admin" for s in active),
        children=[_brief(c) for c in guardianship.children_of(session, person.id)],
    )


@router.get("/me/children", response_model=list[PersonBrief])
def my_children(
    session: SessionDep, principal: Principal = require("person", "read")
) -> list[PersonBrief]:
    """The minors the caller represents today (representation ends at 18)."""
    person_id = _person_id(principal)
    policies.authorize(principal, "person", "read", resource={"subject": principal.subject})
    return [_brief(c) for c in guardianship.children_of(session, person_id)]


@router.get("/persons/{person_id}", response_model=PersonOut)
def get_person(
    person_id: uuid.UUID, session: SessionDep, principal: Principal = require("person", "read")
) -> PersonOut:
    """A person as the caller may see them: self, a guardian of, or staff of the same school."""
    person = identity.get_person(session, person_id)
    active = statuses.active_statuses(session, person_id) if person else []
    resource = {
        **guardianship.owner_resource(session, person_id),
        "schools": sorted({f"school:{s.school_id}" for s in active if s.school_id}),
    }
    policies.authorize(principal, "person", "read", resource=resource)
    if person is None:  # only reachable by a caller allowed to read it (self), never a probe
        raise NotFound("no such person", type="person-not-found")
    return PersonOut(
        **_brief(person).model_dump(), statuses=claims.describe_statuses(session, active)
    )


# --- schools ------------------------------------------------------------------------------
@router.post("/schools", status_code=201, response_model=SchoolOut)
def add_school(
    body: SchoolIn,
    session: SessionDep,
    principal: Principal = require("school", "write", domain=NEW_SCHOOL),
) -> SchoolOut:
    """Register a school (platform admin)."""
    school = schools.register_school(session, actor=principal.subject, **body.model_dump())
    return SchoolOut.model_validate(school)


@router.get("/schools", response_model=list[SchoolOut])
def list_schools(
    session: SessionDep, principal: Principal = require("school", "read")
) -> list[SchoolOut]:
    """The registered schools the caller may read (platform admins: all of them)."""
    return [
        SchoolOut.model_validate(s)
        for s in schools.list_schools(session)
        if policies.decide(principal, "school", "read", domain=f"school:{s.id}").allowed
    ]


@router.get("/schools/{school_id}", response_model=SchoolOut)
def get_school(
    school_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("school", "read", domain_param="school_id"),
) -> SchoolOut:
    """A registered school (members of the school, platform admins)."""
    school = schools.get_school(session, school_id)
    return SchoolOut.model_validate(school)


# --- roster -------------------------------------------------------------------------------
async def _csv_body(request: Request) -> str:
    """The roster as text: a ``text/csv`` body or the ``file`` part of a multipart form."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form(max_files=1)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem("multipart body needs a 'file' part", status=422, type="roster-invalid")
        data = await upload.read(MAX_ROSTER_BYTES + 1)
    elif ctype in ("text/csv", "text/plain", "application/csv"):
        data = b""
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_ROSTER_BYTES:
                break
    else:
        raise Problem(
            "send the roster as text/csv or multipart/form-data",
            status=415,
            type="unsupported-media-type",
            title="Unsupported media type",
        )
    if len(data) > MAX_ROSTER_BYTES:
        raise Problem(
            "the roster is too large",
            status=413,
            type="roster-too-large",
            title="Payload too large",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Problem("the roster must be UTF-8", status=422, type="roster-invalid") from exc


@router.post("/schools/{school_id}/roster", response_model=RosterImportOut)
def import_roster(
    school_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = require("roster", "import", domain_param="school_id"),
    csv_text: str = Depends(_csv_body),  # read only once the caller is allowed
) -> RosterImportOut:
    """Replace the school's roster from CSV (``text/csv`` or a multipart ``file``): the
    import is the admin's confirmation. Rows naming a known person by name alone are held
    for review (listed in ``review``)."""
    schools.get_school(session, school_id)
    report = roster_service.import_roster(
        session, school_id, csv_text, principal.subject, settings=settings
    )
    return RosterImportOut.model_validate(report)


@router.get("/schools/{school_id}/roster", response_model=list[RosterEntryOut])
def get_roster(
    school_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("roster", "read", domain_param="school_id"),
) -> list[RosterEntryOut]:
    """The school's active roster (SNILS never leaves: only whether a row has one)."""
    schools.get_school(session, school_id)
    return [
        RosterEntryOut(
            **{c: getattr(e, c) for c in RosterEntryOut.model_fields if c != "has_snils"},
            has_snils=e.snils_hash is not None,
        )
        for e in roster_service.roster_of(session, school_id)
    ]


# --- statuses -----------------------------------------------------------------------------
def _named(status: Status, person: Person) -> NamedStatusOut:
    row = StatusOut.model_validate(status).model_dump()
    return NamedStatusOut(**row, person_name=identity.full_name(person))


@router.get("/schools/{school_id}/statuses", response_model=list[NamedStatusOut])
def get_statuses(
    school_id: uuid.UUID,
    session: SessionDep,
    role: str | None = None,
    principal: Principal = require("status", "read", domain_param="school_id"),
) -> list[NamedStatusOut]:
    """The school's active statuses (of one ``role`` when given), with the people's names."""
    schools.get_school(session, school_id)
    found = statuses.school_statuses(session, school_id, role)
    people = {p.id: p for p in identity.get_people(session, [s.person_id for s in found])}
    return [_named(s, people[s.person_id]) for s in found]


@router.post("/schools/{school_id}/proctors", status_code=201, response_model=StatusOut)
def appoint_proctor(
    school_id: uuid.UUID,
    body: ProctorIn,
    session: SessionDep,
    principal: Principal = require("status", "write", domain_param="school_id"),
) -> StatusOut:
    """Appoint a teacher or admin of the school as a proctor (school admin)."""
    schools.get_school(session, school_id)
    status = statuses.appoint_proctor(session, school_id, body.person_id, actor=principal.subject)
    return StatusOut.model_validate(status)


@router.delete("/schools/{school_id}/statuses/{status_id}", response_model=EndedStatusOut)
def end_status(
    school_id: uuid.UUID,
    status_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("status", "write", domain_param="school_id"),
) -> EndedStatusOut:
    """End a status given by hand (a proctor appointment); roster and ESIA statuses end
    only at their source (409)."""
    schools.get_school(session, school_id)
    status = statuses.end_school_status(session, school_id, status_id, actor=principal.subject)
    return EndedStatusOut.model_validate(status)
