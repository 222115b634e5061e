"""What a person looks like to others: OIDC claims and the school-statuses view.

``claims_for`` answers the ID token and userinfo of a relying party, by the scopes the person
allowed; ``describe_statuses`` is the ``school_statuses`` shape shared by those claims and the
people API (``/me``, ``/persons/{id}``). The ESIA oid and SNILS never appear here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from idp import repository as repo
from idp.guardianship import age_group, children_of
from idp.identity import full_name
from idp.models import Person, Status
from idp.statuses import active_statuses

GENDERS = {"M": "male", "F": "female"}


def describe_statuses(session: Session, statuses: list[Status]) -> list[dict[str, Any]]:
    """The ``school_statuses`` shape: school id, name, ОГРН, role and class where known."""
    schools = repo.schools_by_ids(session, [s.school_id for s in statuses if s.school_id])
    out = []
    for s in statuses:
        school = schools.get(s.school_id) if s.school_id else None
        if school is None:
            continue
        item = {
            "school_id": str(school.id),
            "school_name": school.name,
            "ogrn": school.ogrn,
            "role": s.role,
        }
        if s.class_name:
            item["class"] = s.class_name
        out.append(item)
    return sorted(out, key=lambda i: (i["school_name"], i["role"]))


def describe_organization_statuses(
    session: Session, statuses: list[Status]
) -> list[dict[str, Any]]:
    """The statuses held in an organisation (``operator_staff`` of a registered operator), by
    the organisation's name: what the person's own profile shows next to the school ones."""
    held = [s for s in statuses if s.organization_id is not None]
    orgs = {o.id: o for o in repo.organizations_by_ids(session, [s.organization_id for s in held])}
    out = [
        {"organization_id": str(o.id), "organization_name": o.name, "role": s.role}
        for s in held
        if (o := orgs.get(s.organization_id)) is not None
    ]
    return sorted(out, key=lambda i: (i["organization_name"], i["role"]))


def claims_for(session: Session, person: Person, scopes: set[str]) -> dict:
    """OIDC claims for ID token and userinfo, by scope.

    ``profile``: names, birthdate, gender, ``age_group`` and ``school_statuses``;
    ``school``: ``school_statuses``; ``children``: the minors the person represents (sub, name,
    age_group) — only with that scope, which the person allowed on the consent screen.
    The ESIA oid and SNILS never appear in tokens.
    """
    claims: dict = {"sub": str(person.id)}
    if "profile" in scopes:
        claims.update(
            family_name=person.last_name,
            given_name=person.first_name,
            middle_name=person.middle_name,
            name=full_name(person),
            birthdate=person.birth_date.isoformat() if person.birth_date else None,
            gender=GENDERS.get(person.gender or ""),
            age_group=age_group(person),
        )
    if "profile" in scopes or "school" in scopes:
        claims["school_statuses"] = describe_statuses(session, active_statuses(session, person.id))
    if "children" in scopes:
        claims["children"] = [
            {"sub": str(c.id), "name": full_name(c), "age_group": age_group(c)}
            for c in children_of(session, person.id)
        ]
    if "email" in scopes and person.email:
        claims.update(email=person.email, email_verified=person.trusted)
    return {k: v for k, v in claims.items() if v is not None}
