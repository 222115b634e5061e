"""The school's people as its admin sees them: roster rows and statuses, one row per person.

A roster row (a student or teacher the school confirmed) and the statuses of the person it
names make one row; people with statuses but no roster row (the school's admins, parents,
proctors) get a row of their own. Rows can be searched by name and filtered by class, role and
whether the person has logged in; exported as CSV for Excel (UTF-8 with BOM, ``;``).

Proctors from the roster: a teacher known only from the roster (never logged in) can be
appointed; the appointment waits on the row (``proctor_appointed_at``) and becomes a status at
their first login (``idp.statuses.sync_roster_statuses``). Nothing here commits.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from audit import service as audit
from idp import repository as repo
from idp.identity import full_name, get_people, norm_name
from idp.models import RosterEntry, Status
from idp.schools import get_school
from idp.statuses import appoint_proctor
from propusk.db import utcnow
from propusk.errors import Conflict, NotFound, ValidationProblem
from propusk.messages import role_text

ROLE_ORDER = ("school_admin", "proctor", "teacher", "student", "parent")
LOGIN_FILTERS = ("yes", "no")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class StatusBrief:
    id: uuid.UUID
    role: str
    source: str


@dataclass
class PersonRow:
    """One person of the school (or a roster row not yet matched to a person)."""

    id: str  # the roster row's id, else the person's
    roster_entry_id: uuid.UUID | None
    person_id: uuid.UUID | None
    name: str
    birth_date: date | None
    class_name: str | None
    roles: list[str] = field(default_factory=list)
    statuses: list[StatusBrief] = field(default_factory=list)
    proctor: str | None = None  # active | pending
    proctor_status_id: uuid.UUID | None = None

    @property
    def logged_in(self) -> bool:
        return self.person_id is not None

    @property
    def can_appoint(self) -> bool:
        """A teacher (from the roster, logged in or not) or an admin of the school."""
        return self.proctor is None and bool({"teacher", "school_admin"} & set(self.roles))


def school_people(session: Session, school_id: uuid.UUID) -> list[PersonRow]:
    """Every person of the school, admins first, then teachers, students, parents."""
    get_school(session, school_id)
    entries = repo.active_roster(session, school_id)
    statuses = repo.school_statuses(session, school_id, utcnow())
    by_person: dict[uuid.UUID, list[Status]] = {}
    for s in statuses:
        by_person.setdefault(s.person_id, []).append(s)
    people = {p.id: p for p in get_people(session, list(by_person))}
    rows: list[PersonRow] = []
    placed: set[uuid.UUID] = set()
    for entry in entries:
        row = PersonRow(
            id=str(entry.id),
            roster_entry_id=entry.id,
            person_id=entry.person_id,
            name=entry_name(entry),
            birth_date=entry.birth_date,
            class_name=entry.class_name,
            roles=[entry.role],
        )
        if entry.proctor_appointed_at is not None:
            row.proctor = "pending"
        if entry.person_id is not None and entry.person_id not in placed:
            placed.add(entry.person_id)
            _add_statuses(row, by_person.get(entry.person_id, []))
        rows.append(row)
    for person_id, held in by_person.items():
        if person_id in placed or person_id not in people:
            continue
        person = people[person_id]
        row = PersonRow(
            id=str(person_id),
            roster_entry_id=None,
            person_id=person_id,
            name=full_name(person),
            birth_date=person.birth_date,
            class_name=None,
        )
        _add_statuses(row, held)
        rows.append(row)
    rows.sort(key=_order)
    return rows


def entry_name(entry: RosterEntry) -> str:
    return " ".join(p for p in (entry.last_name, entry.first_name, entry.middle_name) if p)


def _add_statuses(row: PersonRow, held: list[Status]) -> None:
    for s in held:
        row.statuses.append(StatusBrief(s.id, s.role, s.source))
        if s.role not in row.roles:
            row.roles.append(s.role)
        if s.role == "proctor":
            row.proctor, row.proctor_status_id = "active", s.id
        if s.class_name and not row.class_name:
            row.class_name = s.class_name
    row.roles.sort(key=lambda r: ROLE_ORDER.index(r) if r in ROLE_ORDER else len(ROLE_ORDER))


def _order(row: PersonRow) -> tuple:
    first = min((ROLE_ORDER.index(r) for r in row.roles if r in ROLE_ORDER), default=99)
    return (first, row.class_name or "", norm_name(row.name))


def filter_people(
    rows: list[PersonRow],
    *,
    q: str | None = None,
    class_name: str | None = None,
    role: str | None = None,
    login: str | None = None,
) -> list[PersonRow]:
    """Rows whose name holds every word of ``q``, of the class, with the role, logged in or
    not (``login``: yes | no)."""
    words = norm_name(q).split() if q else []
    if login is not None and login not in LOGIN_FILTERS:
        raise ValidationProblem("login is yes or no", type="invalid-filter")
    out = []
    for row in rows:
        name = norm_name(row.name)
        if words and not all(w in name for w in words):
            continue
        if class_name and row.class_name != class_name:
            continue
        if role and role not in row.roles:
            continue
        if login is not None and row.logged_in != (login == "yes"):
            continue
        out.append(row)
    return out


def classes_of(rows: list[PersonRow]) -> list[str]:
    return sorted({r.class_name for r in rows if r.class_name}, key=_class_order)


def _class_order(name: str) -> tuple:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 99, name)


# --- export -------------------------------------------------------------------------------
EXPORT_HEADER = ("ФИО", "Роли", "Класс", "Дата рождения", "Вход через Госуслуги", "Проктор")
PROCTOR_TEXT = {"active": "да", "pending": "назначен, ждёт первого входа", None: ""}


def people_csv(rows: list[PersonRow]) -> bytes:
    """The rows as Excel opens them in Russian: UTF-8 with BOM, ``;``, CRLF; a cell that a
    spreadsheet would run as a formula is written as text (a leading apostrophe)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    for row in rows:
        writer.writerow(
            [
                _safe(row.name),
                ", ".join(role_text(r) for r in row.roles),
                _safe(row.class_name or ""),
                row.birth_date.strftime("%d.%m.%Y") if row.birth_date else "",
                "да" if row.logged_in else "нет",
                PROCTOR_TEXT[row.proctor],
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _safe(cell: str) -> str:
    return "'" + cell if cell.lstrip(" ").startswith(FORMULA_START) else cell


# --- proctors from the roster -------------------------------------------------------------
def _teacher_entry(session: Session, school_id: uuid.UUID, entry_id: uuid.UUID) -> RosterEntry:
    get_school(session, school_id)
    entry = repo.roster_entry(session, entry_id)
    if entry is None or entry.school_id != school_id or entry.ended_at is not None:
        raise NotFound("no such roster row in this school", type="roster-entry-not-found")
    if entry.role != "teacher":
        raise ValidationProblem(
            "a proctor must be a teacher or an admin of the school", type="not-school-staff"
        )
    return entry


def appoint_roster_proctor(
    session: Session, school_id: uuid.UUID, entry_id: uuid.UUID, *, actor: str
) -> tuple[RosterEntry, Status | None]:
    """Appoint the teacher of a roster row: a status now if the row names a person, else an
    appointment that waits for their first login (audited as ``proctor.appointed``)."""
    entry = _teacher_entry(session, school_id, entry_id)
    if entry.person_id is not None:
        return entry, appoint_proctor(session, school_id, entry.person_id, actor=actor)
    if entry.proctor_appointed_at is not None:
        raise Conflict("already appointed a proctor of this school", type="status-exists")
    entry.proctor_appointed_at, entry.proctor_appointed_by = utcnow(), actor[:80]
    session.add(entry)
    session.flush()
    audit.record(
        session,
        "proctor.appointed",
        actor=actor,
        subject=f"school:{school_id}",
        body={"roster_entry": str(entry.id), "waiting": True},  # no names: append-only log
    )
    return entry, None


def cancel_roster_proctor(
    session: Session, school_id: uuid.UUID, entry_id: uuid.UUID, *, actor: str
) -> RosterEntry:
    """Withdraw an appointment still waiting for the teacher's first login."""
    entry = _teacher_entry(session, school_id, entry_id)
    if entry.proctor_appointed_at is None:
        raise NotFound("no proctor appointment waits on this row", type="status-not-found")
    entry.proctor_appointed_at = entry.proctor_appointed_by = None
    session.add(entry)
    session.flush()
    audit.record(
        session,
        "proctor.cancelled",
        actor=actor,
        subject=f"school:{school_id}",
        body={"roster_entry": str(entry.id), "waiting": True},
    )
    return entry
