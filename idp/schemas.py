"""Request and response models of the people/schools API."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class StatusOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    school_id: uuid.UUID | None
    organization_id: uuid.UUID | None
    role: str
    class_name: str | None = Field(
        validation_alias=AliasChoices("class_name", "class"), serialization_alias="class"
    )
    source: str
    valid_from: datetime
    valid_to: datetime | None


class PersonBrief(BaseModel):
    id: uuid.UUID
    name: str
    birth_date: date | None
    age_group: str


class MeOut(BaseModel):
    id: uuid.UUID
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date | None
    age_group: str
    email: str | None
    trusted: bool
    statuses: list[dict]
    children: list[PersonBrief]


class SchoolIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ogrn: str = Field(min_length=13, max_length=15)
    name: str = Field(min_length=1, max_length=500)
    org_oid: str | None = Field(default=None, max_length=32)
    region: str | None = Field(default=None, max_length=100)
    short_name: str | None = Field(default=None, max_length=200)
    inn: str | None = Field(default=None, max_length=12)


class SchoolOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    ogrn: str
    name: str
    short_name: str | None
    region: str | None
    esia_org_oid: str | None


class RosterEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    role: str
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date
    class_name: str | None = Field(
        validation_alias=AliasChoices("class_name", "class"), serialization_alias="class"
    )
    has_snils: bool
    person_id: uuid.UUID | None
    confirmed_by: str
    confirmed_at: datetime


class ProctorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    person_id: uuid.UUID
