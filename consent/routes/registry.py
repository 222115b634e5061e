"""Routes of the registry: organisations (platform administrators), the catalogue of data
categories and purposes, and operators' consent templates."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Query

from consent import catalogue, parties, queries, templates
from consent.routes.caller import operator_of
from consent.schemas.registry import (
    CatalogueIn,
    CatalogueLoadedOut,
    CatalogueOut,
    OrganizationIn,
    OrganizationOut,
    OrganizationsOut,
    TemplateIn,
    TemplateOut,
    catalogue_out,
    organization_out,
    template_out,
)
from propusk.deps import SessionDep, require
from propusk.errors import problems
from propusk.security import Principal

router = APIRouter(prefix="/api/v1", tags=["consent"])


@router.post("/organizations", status_code=201)
def register_organization(
    body: OrganizationIn,
    session: SessionDep,
    principal: Principal = require("organization", "write"),
) -> OrganizationOut:
    """Register an operator or a supplier (with its OAuth client and ESIA organisation, if
    given). Platform administrators only."""
    org = parties.register_organization(session, body.model_dump(), actor=principal.subject)
    return organization_out(org, parties.client_of(session, org.id))


@router.get("/organizations")
def list_organizations(
    session: SessionDep,
    limit: int = Query(1000, ge=1, le=5000),
    principal: Principal = require("organization", "read"),
) -> OrganizationsOut:
    """The registered operators and suppliers (by kind, then name), each with the OAuth client
    it registered with. Platform administrators only."""
    listed = parties.listing(session, limit)
    return OrganizationsOut(organizations=[organization_out(o, c) for o, c in listed])


@router.get("/organizations/{org_id}")
def get_organization(
    org_id: uuid.UUID, session: SessionDep, principal: Principal = require("organization", "read")
) -> OrganizationOut:
    """A registered organisation."""
    org = queries.organization(session, org_id)
    return organization_out(org, parties.client_of(session, org.id))


@router.put("/consent/catalogue", responses=problems(400))
def put_catalogue(
    body: CatalogueIn,
    session: SessionDep,
    principal: Principal = require("consent.catalogue", "write"),
) -> CatalogueLoadedOut:
    """Insert or update data categories and purposes. Platform administrators only."""
    categories, purposes = catalogue.load_catalogue(session, body.model_dump())
    return CatalogueLoadedOut(categories=categories, purposes=purposes)


@router.get("/consent/catalogue")
def get_catalogue(
    session: SessionDep, principal: Principal = require("consent.template", "read")
) -> CatalogueOut:
    """The catalogue: data categories (with the size limit of a vault value) and purposes."""
    return catalogue_out(*queries.catalogue(session))


@router.post("/consent/templates", status_code=201)
def publish_template(
    body: TemplateIn,
    session: SessionDep,
    principal: Principal = require("consent.template", "write"),
) -> TemplateOut:
    """Publish the next version of the calling operator's consent template."""
    operator = operator_of(session, principal)
    template = templates.publish_template(
        session, operator, body.model_dump(), actor=principal.subject
    )
    return template_out(template)


@router.get("/consent/templates/{template_id}")
def get_template(
    template_id: uuid.UUID,
    session: SessionDep,
    principal: Principal = require("consent.template", "read"),
) -> TemplateOut:
    """One published template version."""
    return template_out(queries.template(session, template_id))
