"""People, schools, guardianship and school statuses (the identity core).

OIDC tables (clients, keys, codes, tokens, login sessions) live in ``idp/oidc/models.py``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from propusk.db import Base, UTCDateTime, new_id, utcnow

ROLES = (
    "student",
    "parent",
    "teacher",
    "school_admin",
    "proctor",
    "operator_staff",
    "operator_head",
    "platform_admin",
)
STATUS_SOURCES = ("esia", "roster", "appointment", "derived", "admin")


class Person(Base):
    """A participant identified by ESIA. SNILS is encrypted; ``snils_hash`` finds it."""

    __tablename__ = "person"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    esia_oid: Mapped[str] = mapped_column(String(32), unique=True)
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(200))
    middle_name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(1))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(32))
    snils_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    snils_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    trusted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    esia_refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class School(Base):
    """An educational organisation, keyed by its ESIA organisation oid and ОГРН."""

    __tablename__ = "school"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    esia_org_oid: Mapped[str | None] = mapped_column(String(32), unique=True)
    ogrn: Mapped[str] = mapped_column(String(15), unique=True)
    inn: Mapped[str | None] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(500))
    short_name: Mapped[str | None] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(1000))  # legal address, as registered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Guardianship(Base):
    """Parent → child link, as ESIA ``/kids`` reports it for the parent."""

    __tablename__ = "guardianship"
    __table_args__ = (UniqueConstraint("guardian_id", "child_id", name="uq_guardianship_pair"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    guardian_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    child_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    source: Mapped[str] = mapped_column(String(16), default="esia")
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Status(Base):
    """A school status: (person, school, role, source, valid_from, valid_to, revoked_at)."""

    __tablename__ = "status"
    __table_args__ = (Index("ix_status_person_active", "person_id", "revoked_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    school_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("school.id"), index=True)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organization.id"), index=True
    )  # operator org (operator_staff)
    role: Mapped[str] = mapped_column(String(32))
    class_name: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(80))
    end_reason: Mapped[str | None] = mapped_column(String(64))


class Organization(Base):
    """The one registry of operator and supplier organisations (its staff get ``operator_staff``).

    Kept here (not in ``consent``) because statuses are derived from it at login; the legal
    identity lives here (name, ИНН, ОГРН, address, ESIA oid), consent keeps what it needs to
    process data in a 1:1 profile (``consent_organization_profile``, same id), and an OAuth
    client acts for an organisation through ``oidc_client.organization_id`` (one binding).
    """

    __tablename__ = "organization"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    esia_org_oid: Mapped[str | None] = mapped_column(String(32), unique=True)
    ogrn: Mapped[str] = mapped_column(String(15), unique=True)
    inn: Mapped[str | None] = mapped_column(String(12))  # known once registered with its details
    name: Mapped[str] = mapped_column(String(500))
    address: Mapped[str | None] = mapped_column(String(1000))  # legal address
    kind: Mapped[str] = mapped_column(String(16))  # operator | supplier
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RosterEntry(Base):
    """One row of a school's roster, confirmed by the school admin who imported it.

    Matched to a person at import or at login by ``snils_hash``, else by ``name_key`` (a keyed
    hash of the normalised full name and birth date). ``ended_at`` marks graduation/dismissal.
    """

    __tablename__ = "roster_entry"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    school_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("school.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    last_name: Mapped[str] = mapped_column(String(200))
    first_name: Mapped[str] = mapped_column(String(200))
    middle_name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[date] = mapped_column(Date)
    snils_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    snils_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    name_key: Mapped[str] = mapped_column(String(64), index=True)
    class_name: Mapped[str | None] = mapped_column(String(16))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), index=True)
    confirmed_by: Mapped[str] = mapped_column(String(80))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A teacher appointed proctor before their first login: the appointment waits on the row
    # and becomes a ``proctor`` status when the row is matched to the person (then cleared).
    proctor_appointed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    proctor_appointed_by: Mapped[str | None] = mapped_column(String(80))
