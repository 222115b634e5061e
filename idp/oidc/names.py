"""What a subject or a domain of the policy is called, for the platform administrator's console:
``person:<id>`` → the person's full name, ``client:<id>`` → the application's name,
``org:<id>`` → the organisation's, ``school:<id>`` → the school's. Unknown or malformed keys are
left out (the page says «неизвестно»); the wildcard domains have fixed Russian names there.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.orm import Session

from idp import identity, schools
from idp.oidc import clients
from propusk.errors import NotFound

MAX_NAMES = 200


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def names(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """``{key: name}`` for each key that names something stored (at most ``MAX_NAMES``)."""
    found: dict[str, str] = {}
    for key in list(dict.fromkeys(keys))[:MAX_NAMES]:
        kind, _, ident = key.partition(":")
        name = _name(session, kind, ident)
        if name:
            found[key] = name
    return found


def _name(session: Session, kind: str, ident: str) -> str | None:
    if kind == "client":
        row = clients.client_row(session, ident)
        return row.name if row else None
    ident_id = _uuid(ident)
    if ident_id is None:
        return None
    if kind == "person":
        person = identity.get_person(session, ident_id)
        return identity.full_name(person) if person else None
    if kind == "org":
        org = schools.get_organization(session, ident_id)
        return org.name if org else None
    if kind == "school":
        try:
            return schools.get_school(session, ident_id).name
        except NotFound:
            return None
    return None
