"""The building blocks of consent's request and response models.

Request bodies derive from ``Strict`` (unknown fields and NUL characters are refused with a
422 before any handler runs); response models derive from ``Answer``. Times and dates in
answers are the ISO strings the API has always sent (``datetime.isoformat()``: ``+00:00``,
not pydantic's ``Z``), typed ``Timestamp`` and ``Day`` so the OpenAPI document still says
``date-time`` / ``date``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Key = Field(min_length=3, max_length=120, pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Day = Annotated[str, Field(json_schema_extra={"format": "date"})]


def _no_nul(value: Any, path: str = "body") -> None:
    """PostgreSQL text cannot hold NUL: refuse it up front (422), never fail at the INSERT."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError(f"{path}: NUL characters are not allowed")
    elif isinstance(value, dict):
        for k, v in value.items():
            _no_nul(k, path)
            _no_nul(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _no_nul(v, f"{path}[{i}]")


class Strict(BaseModel):
    """Unknown fields are refused; so is NUL anywhere in the body."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        _no_nul(data)
        return data


class Answer(BaseModel):
    """A response body: the keys and values clients have always received, in that order.

    Unknown keys are an error, not silently dropped: an answer built from a service's dict
    (``consent.obligations.view``, ``consent.access.access_answer``, ``consent.answers``)
    never carries a key its documented schema lacks (the tests fail first)."""

    model_config = ConfigDict(extra="forbid")


def iso(value: datetime | date | None) -> str | None:
    """An answer's time or date (None stays None)."""
    return value.isoformat() if value else None


class OrganizationRefOut(Answer):
    """An organisation as a person reads it: name, ИНН, ОГРН, address."""

    id: uuid.UUID
    name: str
    inn: str
    ogrn: str
    address: str


class TitledOut(Answer):
    """A catalogue key with its Russian title (pages show the title, never the key)."""

    key: str
    title: str


def organization_ref(party: Any) -> OrganizationRefOut | None:
    """The reference to a registered organisation (``consent.parties.Party``), if known."""
    if party is None:
        return None
    return OrganizationRefOut(
        id=party.id, name=party.name, inn=party.inn, ogrn=party.ogrn, address=party.address
    )
