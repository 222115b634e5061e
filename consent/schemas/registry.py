"""Bodies and answers of the registry: organisations, the catalogue, consent templates.

Platform administrators register operators and suppliers and load the catalogue of data
categories and purposes; operators publish versioned consent templates over it.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, Field

from consent.catalogue import DEFAULT_MAX_BYTES
from consent.models import Category, Purpose, Template
from consent.parties import Party
from consent.schemas.base import Answer, Key, Strict, Timestamp, iso
from propusk.validators import free_text, one_line

# --- organisations --------------------------------------------------------------------------


# names people read: no control, bidirectional or zero-width characters
Line = Annotated[str, AfterValidator(one_line)]
# the wording people read and sign: lines and tabs, no other control or bidirectional character
Text = Annotated[str, AfterValidator(free_text)]


class OrganizationIn(Strict):
    kind: Literal["operator", "supplier"]
    name: Line = Field(min_length=1, max_length=500)
    inn: str = Field(pattern=r"^[0-9]{10}([0-9]{2})?$")
    ogrn: str = Field(pattern=r"^[0-9]{13}([0-9]{2})?$")
    address: Line = Field(min_length=1, max_length=1000)
    country: str = Field(default="RU", pattern=r"^[A-Z]{2}$")
    storage_country: str = Field(min_length=2, max_length=2)
    storage_location: Line = Field(min_length=1, max_length=500)
    registry_number: Line = Field(min_length=1, max_length=64)
    cross_border_notice_ref: Line | None = Field(default=None, max_length=200)
    # the column's width (idp.models.Organization.esia_org_oid)
    esia_org_oid: str | None = Field(default=None, min_length=1, max_length=32, pattern=r"^[0-9]+$")
    client_id: str | None = Field(default=None, min_length=1, max_length=200)


class OrganizationOut(Answer):
    """A registered operator or supplier."""

    id: uuid.UUID
    kind: str = Field(description="operator | supplier")
    name: str
    inn: str
    ogrn: str
    address: str
    country: str = Field(description="where the recipient is (ISO 3166 alpha-2)")
    storage_country: str = Field(description="where it stores the data")
    cross_border_notice_ref: str | None
    storage_location: str
    registry_number: str = Field(description="RKN registry of operators")
    client_id: str | None = Field(description="the OAuth client acting for it")


class OrganizationsOut(Answer):
    """The registered operators and suppliers, by kind, then name."""

    organizations: list[OrganizationOut]


def organization_out(org: Party, client_id: str | None) -> OrganizationOut:
    return OrganizationOut(
        id=org.id,
        kind=org.kind,
        name=org.name,
        inn=org.inn,
        ogrn=org.ogrn,
        address=org.address,
        country=org.country,
        storage_country=org.storage_country,
        cross_border_notice_ref=org.cross_border_notice_ref,
        storage_location=org.storage_location,
        registry_number=org.registry_number,
        client_id=client_id,
    )


# --- the catalogue ----------------------------------------------------------------------------


class CategoryIn(Strict):
    key: str = Key
    title: str = Field(min_length=1, max_length=300)
    special: bool = False
    biometric: bool = False
    encrypt: bool = False
    max_bytes: int | None = Field(default=None, ge=1, le=16 * 1024 * 1024)


class PurposeIn(Strict):
    key: str = Key
    title: str = Field(min_length=1, max_length=500)
    legal_basis: str = Field(min_length=1, max_length=200)
    dissemination: bool = False


class CatalogueIn(Strict):
    categories: list[CategoryIn] = Field(default_factory=list, max_length=500)
    purposes: list[PurposeIn] = Field(default_factory=list, max_length=500)


class CatalogueLoadedOut(Answer):
    """How many categories and purposes the load inserted or updated."""

    categories: int
    purposes: int


class CategoryOut(Answer):
    key: str
    title: str
    special: bool = Field(description="a special category (152-FZ art. 10)")
    biometric: bool = Field(description="biometric data (152-FZ art. 11)")
    max_bytes: int = Field(description="the largest vault value of this category (compact JSON)")


class PurposeOut(Answer):
    key: str
    title: str
    legal_basis: str


class CatalogueOut(Answer):
    """The data categories and processing purposes consents are made of."""

    categories: list[CategoryOut]
    purposes: list[PurposeOut]


def catalogue_out(categories: list[Category], purposes: list[Purpose]) -> CatalogueOut:
    return CatalogueOut(
        categories=[
            CategoryOut(
                key=c.key,
                title=c.title,
                special=c.special,
                biometric=c.biometric,
                max_bytes=c.max_bytes or DEFAULT_MAX_BYTES,
            )
            for c in categories
        ],
        purposes=[
            PurposeOut(key=p.key, title=p.title, legal_basis=p.legal_basis) for p in purposes
        ],
    )


# --- templates --------------------------------------------------------------------------------


class TemplateIn(Strict):
    key: str = Key
    language: str = Field(default="ru", max_length=8)
    text: Text = Field(default="", max_length=100_000)
    purpose: str = Field(default="", max_length=120)
    categories: list[str] = Field(default_factory=list, max_length=100)
    actions: list[str] = Field(default_factory=list, max_length=20)
    processing_methods: list[str] = Field(default_factory=list, max_length=3)
    processor: Line | None = Field(default=None, max_length=500)
    conditions: Text | None = Field(default=None, max_length=20_000)
    term_days: int = Field(default=0, ge=0, le=100_000)
    withdrawal_method: Text = Field(default="", max_length=5000)
    form: Literal["any", "written"] = "any"
    request_ttl_days: int = Field(default=30, ge=1, le=365)
    valid_until: AwareDatetime | None = None


class TemplateOut(Answer):
    """One published version of an operator's consent template."""

    id: uuid.UUID
    operator_id: uuid.UUID
    key: str
    version: int
    language: str
    text: str
    text_hash: str = Field(description="SHA-256 of the text")
    purpose: str
    categories: list[str]
    actions: list[str]
    processing_methods: list[str]
    processor: str | None
    conditions: str | None
    term_days: int
    withdrawal_method: str
    form: str = Field(description="any | written")
    request_ttl_days: int
    valid_until: Timestamp | None
    published_at: Timestamp | None


def template_out(t: Template) -> TemplateOut:
    return TemplateOut(
        id=t.id,
        operator_id=t.operator_id,
        key=t.key,
        version=t.version,
        language=t.language,
        text=t.text,
        text_hash=t.text_hash,
        purpose=t.purpose_key,
        categories=t.categories,
        actions=t.actions,
        processing_methods=t.processing_methods,
        processor=t.processor,
        conditions=t.conditions,
        term_days=t.term_days,
        withdrawal_method=t.withdrawal_method,
        form=t.form,
        request_ttl_days=t.request_ttl_days,
        valid_until=iso(t.valid_until),
        published_at=iso(t.published_at),
    )
