"""Request and response models of the people/schools API (``idp.routes``).

Every JSON answer of the API has a model here, so ``/openapi.json`` documents its body; the
models reproduce the answers' historical keys exactly (``class`` for a class name, a status's
``revoked_at`` with a ``+00:00`` offset).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
)

ClassName = Annotated[
    str | None,
    Field(validation_alias=AliasChoices("class_name", "class"), serialization_alias="class"),
]
# ``datetime.isoformat()`` (``+00:00``), as the status-ending answer has always written it;
# pydantic alone would write ``Z``.
IsoDatetime = Annotated[
    datetime,
    PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


class StatusOut(BaseModel):
    """A status row: a person's role in a school or organisation and where it comes from."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    school_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    role: str
    class_name: ClassName
    source: str
    valid_from: datetime
    valid_to: datetime | None


class NamedStatusOut(StatusOut):
    """A status of the school's list, with the person's full name."""

    person_name: str


class EndedStatusOut(StatusOut):
    """A status that was just ended by hand."""

    revoked_at: IsoDatetime


class SchoolStatusOut(BaseModel):
    """A person's status in a school as people see it (the ``school_statuses`` claim shape):
    no ``class`` key when the status has no class."""

    school_id: uuid.UUID
    school_name: str
    ogrn: str
    role: str
    class_name: ClassName = None

    # No return annotation: the documented shape stays this model's (``Any`` would erase it).
    @model_serializer(mode="wrap")
    def _omit_absent_class(self, handler: SerializerFunctionWrapHandler):
        data = handler(self)
        if self.class_name is None:
            data.pop("class", None)
            data.pop("class_name", None)
        return data


class PersonBrief(BaseModel):
    """A person in a list: id, full name, birth date and age group."""

    id: uuid.UUID
    name: str
    birth_date: date | None
    age_group: str


class PersonOut(PersonBrief):
    """A person as a caller allowed to read them sees them, with their school statuses."""

    statuses: list[SchoolStatusOut]


class OrganizationStatusOut(BaseModel):
    """A status held in an organisation (``operator_staff`` of a registered operator)."""

    organization_id: uuid.UUID
    organization_name: str
    role: str


class MeOut(BaseModel):
    """The caller's own profile, active school statuses and the minors they represent."""

    id: uuid.UUID
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date | None
    age_group: str
    email: str | None
    trusted: bool
    statuses: list[SchoolStatusOut]
    organization_statuses: list[OrganizationStatusOut] = Field(
        description="statuses in operator organisations (operator_staff), from ESIA /roles"
    )
    platform_admin: bool = Field(description="the person administers the platform")
    children: list[PersonBrief]


class SchoolIn(BaseModel):
    """A school to register."""

    model_config = ConfigDict(extra="forbid")

    ogrn: str = Field(min_length=13, max_length=15)
    name: str = Field(min_length=1, max_length=500)
    org_oid: str | None = Field(default=None, max_length=32)
    region: str | None = Field(default=None, max_length=100)
    short_name: str | None = Field(default=None, max_length=200)
    inn: str | None = Field(default=None, max_length=12)
    address: str | None = Field(default=None, max_length=1000)


class SchoolOut(BaseModel):
    """A registered school."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    ogrn: str
    name: str
    short_name: str | None
    region: str | None
    esia_org_oid: str | None


class RosterEntryOut(BaseModel):
    """A row of the school's active roster (SNILS stays encrypted: only whether there is one)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    role: str
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date
    class_name: ClassName
    has_snils: bool
    person_id: uuid.UUID | None
    confirmed_by: str
    confirmed_at: datetime


class RosterReviewOut(BaseModel):
    """A roster row that names a known person by name alone and waits for the school's SNILS."""

    line: int
    entry_id: uuid.UUID
    reason: str
    message: str


class RosterImportOut(BaseModel):
    """What a roster import did: rows added, updated, unchanged, ended, matched, held."""

    model_config = ConfigDict(from_attributes=True)

    school_id: uuid.UUID
    rows: int
    added: int
    updated: int
    unchanged: int
    ended: int
    matched: int
    confirmed_by: str
    review: list[RosterReviewOut]


class ProctorIn(BaseModel):
    """The person (a teacher or admin of the school) to appoint as a proctor."""

    model_config = ConfigDict(extra="forbid")

    person_id: uuid.UUID


class SchoolEditIn(BaseModel):
    """What the school's admin may change on its profile: the short name people read (the
    full name, ИНН, ОГРН and address are the registry's)."""

    model_config = ConfigDict(extra="forbid")

    short_name: str | None = Field(default=None, max_length=200)


class SchoolProfileOut(SchoolOut):
    """The school's profile: the registered details and how many people it has by role."""

    inn: str | None
    address: str | None
    counts: dict[str, int] = Field(
        description="people by role (student, teacher, school_admin, proctor, parent)"
    )
    not_logged_in: int = Field(description="roster rows whose person has not logged in yet")
    can_edit: bool = Field(description="the caller may change the profile (school write)")
    can_manage: bool = Field(
        description="the caller keeps the roster and its people (roster import)"
    )


class RosterFormatOut(BaseModel):
    """How the file was read: CSV (its encoding and delimiter) or XLSX."""

    kind: str = Field(description="csv | xlsx")
    encoding: str | None = Field(description="utf-8 | utf-8-sig | cp1251 (CSV)")
    delimiter: str | None


class RosterLineOut(BaseModel):
    """A row of the file the import would add or change, or an entry it would end."""

    line: int | None = Field(description="the file's line; none for an entry that would end")
    role: str
    name: str
    class_name: ClassName = None
    changes: list[str] = Field(default_factory=list, description="class | name | snils")
    previous_class: str | None = None


class RosterErrorOut(BaseModel):
    """A mistake in a roster file: the line (0: the file as a whole), the column, in Russian."""

    line: int
    field: str
    message: str


class RosterPreviewOut(BaseModel):
    """What importing the file would do; nothing is written. ``token`` applies exactly this
    file to this school's roster as it is now (``POST …/roster/apply?token=``). A file with
    mistakes: ``valid`` false, its ``errors`` line by line, no token."""

    school_id: uuid.UUID
    valid: bool
    errors: list[RosterErrorOut]
    format: RosterFormatOut | None
    file_sha256: str
    token: str | None
    rows: int
    added: list[RosterLineOut]
    updated: list[RosterLineOut]
    unchanged: int
    ended: list[RosterLineOut]


class StatusBriefOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    role: str
    source: str


class SchoolPersonOut(BaseModel):
    """A person of the school (or a roster row not matched to one yet)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    roster_entry_id: uuid.UUID | None
    person_id: uuid.UUID | None
    name: str
    birth_date: date | None
    class_name: ClassName = None
    roles: list[str]
    statuses: list[StatusBriefOut]
    logged_in: bool
    proctor: str | None = Field(description="active | pending (waits for the first login)")
    proctor_status_id: uuid.UUID | None
    can_appoint: bool


class SchoolPeopleOut(BaseModel):
    """The school's people matching the filters, and the classes to filter by."""

    total: int = Field(description="people of the school")
    found: int = Field(description="people matching the filters (``people`` holds the first)")
    classes: list[str]
    people: list[SchoolPersonOut]


class RosterProctorOut(BaseModel):
    """A proctor appointment from the roster: ``active`` (a status now) or ``pending``."""

    roster_entry_id: uuid.UUID
    state: str = Field(description="active | pending | cancelled")
    status: StatusOut | None = None
