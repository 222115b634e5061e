"""People and schools API: own profile, schools, rosters, statuses, proctor appointments.

Every route declares its (object, action) with ``require``; school-scoped routes name the
``school:<id>`` domain from the path, and ``/me`` checks the owner attribute in the handler.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from idp import claims, guardianship, identity, school_people, schools, statuses
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
    RosterFormatOut,
    RosterImportOut,
    RosterLineOut,
    RosterPreviewOut,
    RosterProctorOut,
    SchoolEditIn,
    SchoolIn,
    SchoolOut,
    SchoolPeopleOut,
    SchoolPersonOut,
    SchoolProfileOut,
    StatusOut,
)
from policies import service as policies
from propusk.deps import SessionDep, SettingsDep, require
from propusk.errors import Forbidden, NotFound, Problem, problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["people"])
# Importing a roster (one step, preview, apply): the school admin, and one budget of files per
# school whichever admin sends them (settings.rate_roster_imports).
ROSTER_IMPORT = require(
    "roster",
    "import",
    domain_param="school_id",
    limit="rate_roster_imports",
    limit_per="school:{school_id}",
)

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


# --- school profile -----------------------------------------------------------------------
def _profile(session, school, principal: Principal) -> SchoolProfileOut:
    rows = school_people.school_people(session, school.id)
    counts = {role: 0 for role in school_people.ROLE_ORDER}
    for row in rows:
        for role in row.roles:
            counts[role] = counts.get(role, 0) + 1
    domain = f"school:{school.id}"
    return SchoolProfileOut(
        **SchoolOut.model_validate(school).model_dump(),
        inn=school.inn,
        address=school.address,
        counts=counts,
        not_logged_in=sum(1 for r in rows if r.roster_entry_id and not r.logged_in),
        can_edit=policies.decide(principal, "school", "write", domain=domain).allowed,
        can_manage=policies.decide(principal, "roster", "import", domain=domain).allowed,
    )


@router.get("/schools/{school_id}/profile", response_model=SchoolProfileOut)
def school_profile(
    school_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("school", "read", domain_param="school_id"),
) -> SchoolProfileOut:
    """The school's registered details (name, ИНН, ОГРН, address) and its people by role."""
    return _profile(session, schools.get_school(session, school_id), principal)


@router.patch("/schools/{school_id}", response_model=SchoolProfileOut, responses=problems(400))
def edit_school(
    school_id: uuid.UUID,
    body: SchoolEditIn,
    session: SessionDep,
    principal: Principal = require("school", "write", domain_param="school_id"),
) -> SchoolProfileOut:
    """Change what the school's admin may change: the short name."""
    school = schools.update_school(
        session, school_id, short_name=body.short_name, actor=principal.subject
    )
    return _profile(session, school, principal)


# --- roster -------------------------------------------------------------------------------
ROSTER_TYPES = (
    "text/csv",
    "text/plain",
    "application/csv",
    "application/octet-stream",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


async def _roster_body(request: Request) -> bytes:
    """The roster file's bytes: the body itself (CSV or XLSX) or the ``file`` part of a
    multipart form; read in chunks, never past the limit."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form(max_files=1)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Problem("multipart body needs a 'file' part", status=422, type="roster-invalid")
        data = await upload.read(MAX_ROSTER_BYTES + 1)
    elif ctype in ROSTER_TYPES:
        chunks, size = [], 0
        async for chunk in request.stream():
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_ROSTER_BYTES:
                break
        data = b"".join(chunks)
    else:
        raise Problem(
            "send the roster as CSV, XLSX or multipart/form-data",
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
    return data


@router.post(
    "/schools/{school_id}/roster", response_model=RosterImportOut, responses=problems(400, 415, 429)
)
def import_roster(
    school_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = ROSTER_IMPORT,
    data: bytes = Depends(_roster_body),  # read only once the caller is allowed
) -> RosterImportOut:
    """Replace the school's roster in one step (API clients): CSV (``,`` or ``;``, UTF-8 or
    Windows-1251) or XLSX, as the body or a multipart ``file``; the import is the admin's
    confirmation. Rows naming a known person by name alone are held for review (``review``).
    The console previews first (``…/roster/preview``, then ``…/roster/apply``)."""
    schools.get_school(session, school_id)
    report = roster_service.import_roster(
        session, school_id, data, principal.subject, settings=settings
    )
    return RosterImportOut.model_validate(report)


def _line(change: roster_service.Change) -> RosterLineOut:
    row = change.row
    name = " ".join(p for p in (row.last_name, row.first_name, row.middle_name) if p)
    return RosterLineOut(
        line=row.line,
        role=row.role,
        name=name,
        class_name=row.class_name,
        changes=list(change.changed),
        previous_class=change.entry.class_name if change.entry else None,
    )


@router.post(
    "/schools/{school_id}/roster/preview",
    response_model=RosterPreviewOut,
    responses=problems(400, 415, 429),
)
def preview_roster(
    school_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    principal: Principal = ROSTER_IMPORT,
    data: bytes = Depends(_roster_body),
) -> RosterPreviewOut:
    """What importing the file would add, change and end — nothing is written; a file with
    mistakes answers ``valid: false`` with its errors line by line (the import would refuse it
    with 422 ``roster-invalid``). The ``token`` applies only this file to the roster as it is
    now, by the same admin."""
    preview = roster_service.preview_roster(
        session, school_id, data, principal.subject, settings=settings
    )
    plan = preview.plan or roster_service.Plan(rows=[])
    return RosterPreviewOut(
        school_id=school_id,
        valid=preview.plan is not None,
        errors=preview.errors,
        format=RosterFormatOut(**preview.format) if preview.format else None,
        file_sha256=preview.file_sha256,
        token=preview.token,
        rows=len(plan.rows),
        added=[_line(c) for c in plan.added],
        updated=[_line(c) for c in plan.updated],
        unchanged=len(plan.unchanged),
        ended=[
            RosterLineOut(
                line=None, role=e.role, name=school_people.entry_name(e), class_name=e.class_name
            )
            for e in plan.ended
        ],
    )


@router.post(
    "/schools/{school_id}/roster/apply",
    response_model=RosterImportOut,
    responses=problems(400, 415, 429),
)
def apply_roster(
    school_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    token: str = Query(min_length=1, max_length=128),
    principal: Principal = ROSTER_IMPORT,
    data: bytes = Depends(_roster_body),
) -> RosterImportOut:
    """Import the previewed file (the same bytes, with the preview's ``token``); 409
    ``roster-preview-mismatch`` for another file, school or admin, or if the roster changed
    since the preview."""
    report = roster_service.apply_preview(
        session, school_id, data, token, principal.subject, settings=settings
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


@router.post(
    "/schools/{school_id}/proctors",
    status_code=201,
    response_model=StatusOut,
    responses=problems(400),
)
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


@router.delete(
    "/schools/{school_id}/statuses/{status_id}",
    response_model=EndedStatusOut,
    responses=problems(409),
)
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


# --- people of the school -----------------------------------------------------------------
def _people(session, school_id, q, class_name, role, login):
    rows = school_people.school_people(session, school_id)
    found = school_people.filter_people(rows, q=q, class_name=class_name, role=role, login=login)
    return rows, found


# The people list's filters, the same for the list and its CSV export.
FilterText = Query(default=None, max_length=200)
ClassFilter = Query(default=None, alias="class", max_length=16)
RoleFilter = Query(default=None, max_length=32)
LoginFilter = Query(default=None, max_length=3)


@router.get("/schools/{school_id}/people", response_model=SchoolPeopleOut)
def list_people(
    school_id: uuid.UUID,
    session: SessionDep,
    q: str | None = FilterText,
    class_name: str | None = ClassFilter,
    role: str | None = RoleFilter,
    login: str | None = LoginFilter,
    limit: int = Query(default=1000, ge=1, le=roster_service.MAX_ROWS * 2),
    principal: Principal = require("roster", "read", domain_param="school_id"),
) -> SchoolPeopleOut:
    """The school's people (roster rows and statuses, one row per person): ``q`` searches the
    name, ``class``, ``role`` and ``login`` (yes | no) filter; the first ``limit`` of those
    ``found`` (the export has them all)."""
    rows, found = _people(session, school_id, q, class_name, role, login)
    return SchoolPeopleOut(
        total=len(rows),
        found=len(found),
        classes=school_people.classes_of(rows),
        people=[SchoolPersonOut.model_validate(r) for r in found[:limit]],
    )


@router.get(
    "/schools/{school_id}/people.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "CSV for Excel"}},
)
def export_people(
    school_id: uuid.UUID,
    session: SessionDep,
    q: str | None = FilterText,
    class_name: str | None = ClassFilter,
    role: str | None = RoleFilter,
    login: str | None = LoginFilter,
    principal: Principal = require("roster", "read", domain_param="school_id"),
) -> Response:
    """The same list as a file Excel opens in Russian (UTF-8 with BOM, ``;``)."""
    _, found = _people(session, school_id, q, class_name, role, login)
    return Response(
        school_people.people_csv(found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="people.csv"'},
    )


@router.post(
    "/schools/{school_id}/roster/{entry_id}/proctor",
    status_code=201,
    response_model=RosterProctorOut,
    responses=problems(409),
)
def appoint_roster_proctor(
    school_id: uuid.UUID,
    entry_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("status", "write", domain_param="school_id"),
) -> RosterProctorOut:
    """Appoint the teacher of a roster row a proctor: at once if they have logged in, else
    the appointment waits for their first login (``pending``)."""
    entry, status = school_people.appoint_roster_proctor(
        session, school_id, entry_id, actor=principal.subject
    )
    return RosterProctorOut(
        roster_entry_id=entry.id,
        state="active" if status else "pending",
        status=StatusOut.model_validate(status) if status else None,
    )


@router.delete("/schools/{school_id}/roster/{entry_id}/proctor", response_model=RosterProctorOut)
def cancel_roster_proctor(
    school_id: uuid.UUID,
    entry_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("status", "write", domain_param="school_id"),
) -> RosterProctorOut:
    """Withdraw a proctor appointment still waiting for the teacher's first login."""
    entry = school_people.cancel_roster_proctor(
        session, school_id, entry_id, actor=principal.subject
    )
    return RosterProctorOut(roster_entry_id=entry.id, state="cancelled")
