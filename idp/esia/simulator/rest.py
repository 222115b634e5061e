"""The ESIA simulator's REST resources (``/rs``, notes §5), filtered by the granted scopes.

A person (``/rs/prns/{oid}``) with embedded collections, the collections themselves (contacts,
addresses, documents, kids, roles, organizations) and their elements, and an organisation
(``/rs/orgs/{oid}``) for its employees. Access tokens are the simulator's own (``state``);
answers use ESIA's shapes (``size``, ``eTag``, ``elements``) and error codes.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from idp.esia.simulator import data as views
from idp.esia.simulator.config import SimulatorConfig
from idp.esia.simulator.state import SimulatorState, TokenGrant

COLLECTION_KEYS = {
    "contacts": "ctts",
    "addresses": "addrs",
    "documents": "docs",
    "kids": "kids",
    "roles": "roles",
    "organizations": "orgs",
}


def _embeds(value: str | None) -> list[str]:
    """``(contacts.elements,documents.elements)`` → ``["contacts.elements", …]``."""
    if not value:
        return []
    return [part.strip() for part in value.strip().strip("()").split(",") if part.strip()]


def _item_id(item: dict[str, Any]) -> Any:
    return item.get("id", item.get("oid"))


def _forbidden(detail: str) -> JSONResponse:
    return JSONResponse({"code": "ESIA-007019", "message": detail}, status_code=403)


def _not_found() -> JSONResponse:
    return JSONResponse({"code": "NOT_FOUND"}, status_code=404)


def _bearer_value(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


class Resources:
    """The ``/rs`` endpoints over the simulator's demo data and issued tokens."""

    def __init__(self, config: SimulatorConfig, state: SimulatorState) -> None:
        self.config = config
        self.state = state

    def _bearer(self, request: Request, oid: str) -> TokenGrant | Response:
        grant = self.state.token(_bearer_value(request))
        if grant is None:
            return JSONResponse(
                {"code": "ESIA-007011", "message": "invalid or expired access token"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if grant.oid != oid:
            return _forbidden("the token was issued for another person")
        return grant

    def _url(self, *parts: object) -> str:
        return self.config.base_url.rstrip("/") + "/rs/" + "/".join(str(p) for p in parts)

    def _items(self, key: str, person: dict[str, Any], scopes: set[str]) -> list[dict] | None:
        """Elements of a person's collection, or None when no granted scope opens it."""
        oid = str(person["oid"])
        data = self.config.data
        if key == "ctts":
            opened = bool(scopes & {"email", "mobile", "contacts"})
            return views.visible_contacts(person, scopes) if opened else None
        if key == "addrs":
            return views.visible_addresses(person, scopes) if "addresses" in scopes else None
        if key == "docs":
            opened = scopes & set(views.DOC_SCOPES)
            return views.visible_documents(person, scopes) if opened else None
        if key == "kids":
            if not scopes & views.KID_SCOPES:
                return None
            kids = [data.person(kid) for kid in data.kids.get(oid, [])]
            return [views.person_view(kid, scopes, prefix="kid_") for kid in kids if kid]
        if key in ("roles", "orgs"):
            if "usr_org" not in scopes:
                return None
            return [
                views.role_view(role, data.organizations[str(role["org"])])
                for role in data.roles.get(oid, [])
            ]
        return None

    def _wrap(self, oid: str, key: str, items: list[dict], embed: bool) -> dict[str, Any]:
        """ESIA collection: ``size``, ``eTag`` and inline elements or absolute URLs."""
        if embed:
            elements: list[Any] = items
        elif key == "orgs":
            elements = [self._url("orgs", item["oid"]) for item in items]
        else:
            elements = [self._url("prns", oid, key, _item_id(item)) for item in items]
        body = {"stateFacts": ["hasSize"], "size": len(items), "elements": elements}
        body["eTag"] = views.etag(body)
        return body

    def _bearer_and_person(self, request: Request, oid: str) -> tuple[TokenGrant, dict] | Response:
        """The bearer's grant and the person ``oid`` it was issued for, or the error answer."""
        grant = self._bearer(request, oid)
        if isinstance(grant, Response):
            return grant
        person = self.config.data.person(oid)
        if person is None:
            return _not_found()
        return grant, person

    async def person(self, request: Request) -> Response:
        oid = request.path_params["oid"]
        found = self._bearer_and_person(request, oid)
        if isinstance(found, Response):
            return found
        grant, person = found
        view = views.person_view(person, grant.scopes)
        for name in _embeds(request.query_params.get("embed")):
            collection = name.removesuffix(".elements")
            key = COLLECTION_KEYS.get(collection)
            if key is None:
                continue
            items = self._items(key, person, grant.scopes)
            if items is not None:
                view[collection] = self._wrap(oid, key, items, embed=True)
        return JSONResponse(view)

    async def collection(self, request: Request) -> Response:
        oid, key = request.path_params["oid"], request.path_params["collection"]
        if key not in COLLECTION_KEYS.values():
            return _not_found()
        found = self._bearer_and_person(request, oid)
        if isinstance(found, Response):
            return found
        grant, person = found
        items = self._items(key, person, grant.scopes)
        if items is None:
            return _forbidden(f"no scope grants /{key}")
        embed = "elements" in _embeds(request.query_params.get("embed"))
        # ESIA answers /roles with inline objects even without embed (notes §5).
        return JSONResponse(self._wrap(oid, key, items, embed or key == "roles"))

    async def element(self, request: Request) -> Response:
        oid, key = request.path_params["oid"], request.path_params["collection"]
        grant = self._bearer(request, oid)
        if isinstance(grant, Response):
            return grant
        person = self.config.data.person(oid)
        items = self._items(key, person, grant.scopes) if person else None
        if items is None:
            return _forbidden(f"no scope grants /{key}")
        wanted = request.path_params["item"]
        for item in items:
            if str(_item_id(item)) == wanted:
                return JSONResponse(item)
        return _not_found()

    async def organization(self, request: Request) -> Response:
        org = self.config.data.organizations.get(request.path_params["org_oid"])
        header = request.headers.get("authorization", "")
        grant = self.state.token(header[7:].strip())
        if grant is None:
            return JSONResponse({"code": "ESIA-007011"}, status_code=401)
        if org is None:
            return _not_found()
        member = any(
            str(r["org"]) == str(org["oid"]) for r in self.config.data.roles.get(grant.oid, [])
        )
        if "usr_org" not in grant.scopes or not member:
            return _forbidden("ESIA-007194")
        return JSONResponse(views.organization_view(org))
