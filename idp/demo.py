"""Demo seed for the identity provider, from the ESIA simulator's fixture.

Registers the fixture's school(s) and operator organisation(s), imports the school roster
(``roster.csv``, confirmed by the seed; only into an empty roster, so an admin's later imports
survive restarts) and makes the fixture's platform administrator one.
Idempotent: ``make run`` calls it on every start, tests call it on shared databases.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from idp import roster
from idp.identity import create_person, get_person_by_oid
from idp.schools import find_school, register_operator_org, register_school
from idp.statuses import grant_platform_admin
from propusk.settings import Settings

FIXTURES = Path(__file__).parent / "esia" / "simulator" / "fixtures"
DEMO_ACTOR = "system:demo-seed"
PLATFORM_ADMIN_LABEL = "Администратор платформы"


def load_fixture(path: Path = FIXTURES / "demo.json") -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def seed(session: Session, settings: Settings) -> dict[str, uuid.UUID]:
    """Seed schools, operators, the roster and the platform admin; returns ids by ESIA org oid."""
    data = load_fixture()
    ids: dict[str, uuid.UUID] = {}
    schools = []
    for org in data.get("organizations", []):
        if org.get("kind") == "school":
            school = _ensure_school(session, org)
            ids[org["oid"]] = school.id
            schools.append(school)
        elif org.get("kind") in ("operator", "supplier"):
            ids[org["oid"]] = register_operator_org(
                session,
                org["oid"],
                org["ogrn"],
                org.get("shortName") or org["fullName"],
                kind=org["kind"],
                actor=DEMO_ACTOR,
            )
    roster_csv = FIXTURES / "roster.csv"
    if schools and roster_csv.exists() and not roster.roster_of(session, schools[0].id):
        roster.import_roster(
            session,
            schools[0].id,
            roster_csv.read_text(encoding="utf-8"),
            DEMO_ACTOR,
            settings=settings,
        )
    _ensure_platform_admins(session, data, settings)
    return ids


def _ensure_school(session: Session, org: dict[str, Any]):
    school = find_school(session, org["oid"], org["ogrn"])
    if school is not None:
        return school
    return register_school(
        session,
        ogrn=org["ogrn"],
        name=org["fullName"],
        org_oid=org["oid"],
        region=org.get("region"),
        short_name=org.get("shortName"),
        inn=org.get("inn"),
        address=org.get("address"),
        actor=DEMO_ACTOR,
    )


def _ensure_platform_admins(session: Session, data: dict[str, Any], settings: Settings) -> None:
    """The fixture's platform admin exists as a person before the first login (CLI bootstrap
    would otherwise need that login); ESIA data refreshes the record at login."""
    for rec in data.get("persons", []):
        if PLATFORM_ADMIN_LABEL not in rec.get("label", ""):
            continue
        if get_person_by_oid(session, rec["oid"]) is None:
            birth = rec.get("birthDate")
            create_person(
                session,
                rec["oid"],
                last_name=rec["lastName"],
                first_name=rec["firstName"],
                middle_name=rec.get("middleName"),
                birth_date=datetime.strptime(birth, "%d.%m.%Y").date() if birth else None,
                snils=rec.get("snils"),
                settings=settings,
            )
        grant_platform_admin(session, rec["oid"], actor=DEMO_ACTOR)
