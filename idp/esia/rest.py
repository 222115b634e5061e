"""ESIA REST: person, contacts, addresses, documents, kids, organisation roles (esia-notes §5).

Collections come as ``{"size": N, "elements": [...]}``; with ``embed=(elements)`` the elements
are inline objects, otherwise absolute URLs (which we then fetch). HTTP failures map to
``EsiaError`` (403 → the scope was not granted).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from idp.esia.errors import EsiaError, transport_error
from propusk.origins import origin_of

EMBED_ELEMENTS = "(elements)"


@dataclass
class EsiaRest:
    base_url: str
    access_token: str
    http: httpx.Client

    def _get(self, url: str, embed: str | None = None) -> dict[str, Any]:
        if not url.startswith("http"):
            url = self.base_url.rstrip("/") + url
        elif origin_of(url) != origin_of(self.base_url):
            # a collection's element URL comes from the answer: the person's bearer token goes
            # only to ESIA's own host, never where an answer (or whoever forged it) points
            raise EsiaError("esia.bad_response", description="element URL off ESIA's origin")
        params = {"embed": embed} if embed else None
        headers = {"Authorization": "Bearer " + self.access_token, "Accept": "application/json"}
        try:
            response = self.http.get(url, params=params, headers=headers)
        except httpx.HTTPError as exc:
            raise transport_error(exc, _path(url)) from None
        if response.status_code in (401, 403):
            raise EsiaError(
                "esia.rest_forbidden", description=f"HTTP {response.status_code} on {_path(url)}"
            )
        if response.status_code != 200:
            raise EsiaError(
                "esia.rest_failed", description=f"HTTP {response.status_code} on {_path(url)}"
            )
        try:
            body = response.json()
        except ValueError:
            raise EsiaError("esia.bad_response", description=f"not JSON on {_path(url)}") from None
        if not isinstance(body, dict):
            raise EsiaError("esia.bad_response", description=f"not an object on {_path(url)}")
        return body

    def _collection(self, path: str) -> list[dict[str, Any]]:
        body = self._get(path, EMBED_ELEMENTS)
        return [
            element if isinstance(element, dict) else self._get(str(element))
            for element in body.get("elements", [])
        ]

    def person(self, oid: str, embeds: tuple[str, ...] = ()) -> dict[str, Any]:
        """``/rs/prns/{oid}``, optionally with ``contacts.elements`` etc. embedded."""
        embed = "(" + ",".join(embeds) + ")" if embeds else None
        return self._get(f"/rs/prns/{oid}", embed)

    def contacts(self, oid: str) -> list[dict[str, Any]]:
        return self._collection(f"/rs/prns/{oid}/ctts")

    def addresses(self, oid: str) -> list[dict[str, Any]]:
        return self._collection(f"/rs/prns/{oid}/addrs")

    def documents(self, oid: str) -> list[dict[str, Any]]:
        return self._collection(f"/rs/prns/{oid}/docs")

    def kids(self, oid: str) -> list[dict[str, Any]]:
        return self._collection(f"/rs/prns/{oid}/kids")

    def roles(self, oid: str) -> list[dict[str, Any]]:
        return self._collection(f"/rs/prns/{oid}/roles")


def _path(url: str) -> str:
    """The path without the person's oid, for error descriptions that reach logs."""
    parts = httpx.URL(url).path.split("/")
    return "/".join("{oid}" if part.isdigit() else part for part in parts)


def embedded(person: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Inline elements of an embedded collection, e.g. ``embedded(person, "contacts")``."""
    collection = person.get(name)
    if not isinstance(collection, dict):
        return []
    return [element for element in collection.get("elements", []) if isinstance(element, dict)]
