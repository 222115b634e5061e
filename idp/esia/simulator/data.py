"""Demo people and organisations of the simulator, shaped as ESIA's REST answers (notes §5).

The fixture holds plain records; this module adds ids, ``eTag``/``stateFacts`` and filters
fields by the scopes granted to a token, so the simulator leaks no more than ESIA would.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).parent / "fixtures" / "demo.json"

# Person scopes (notes §4) and the REST fields each one opens.
PERSON_FIELDS: dict[str, tuple[str, ...]] = {
    "fullname": ("firstName", "lastName", "middleName"),
    "birthdate": ("birthDate",),
    "gender": ("gender",),
    "snils": ("snils",),
    "inn": ("inn",),
    "citizenship": ("citizenship",),
    "birthplace": ("birthPlace",),
}
CONTACT_SCOPES = {"email": "EML", "mobile": "MBT"}
DOC_SCOPES = {
    "id_doc": "RF_PASSPORT",
    "birth_cert_doc": "BRTH_CERT",
    "medical_doc": "MDCL_PLCY",
    "military_doc": "MLTR_ID",
    "foreign_passport_doc": "FRGN_PASS",
    "drivers_licence_doc": "RF_DRIVING_LICENSE",
}
# Kid scopes are UNVERIFIED names (notes §4): kid_<person scope>.
KID_SCOPES = {f"kid_{name}" for name in (*PERSON_FIELDS, "birth_cert_doc", "medical_doc")}
KNOWN_SCOPES = (
    {"openid", "contacts", "addresses", "usr_org", "usr_avt", "vehicles", "self_employed"}
    | set(PERSON_FIELDS)
    | set(CONTACT_SCOPES)
    | set(DOC_SCOPES)
    | {"residence_doc", "temporary_residence_doc"}
    | KID_SCOPES
)
ALWAYS = ("trusted", "verifying", "status", "updatedOn", "rIdDoc", "containsUpCfmCode")


def etag(value: Any) -> str:
    raw = json.dumps(value, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest().upper()


@dataclass
class DemoData:
    persons: dict[str, dict[str, Any]]
    organizations: dict[str, dict[str, Any]]
    kids: dict[str, list[str]] = field(default_factory=dict)
    roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def person(self, oid: str) -> dict[str, Any] | None:
        return self.persons.get(oid)

    def listing(self) -> list[dict[str, Any]]:
        """People for the login page, in fixture order."""
        return list(self.persons.values())


def load_demo(path: Path = FIXTURE) -> DemoData:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    persons: dict[str, dict[str, Any]] = {}
    next_id = 100
    for record in raw["persons"]:
        person = dict(record)
        for kind in ("contacts", "documents", "addresses"):
            items = []
            for item in record.get(kind, []):
                next_id += 1
                items.append({"id": next_id, **item})
            person[kind] = items
        persons[str(person["oid"])] = person
    kids: dict[str, list[str]] = {}
    for link in raw.get("kids", []):
        kids.setdefault(str(link["parent"]), []).append(str(link["child"]))
    roles: dict[str, list[dict[str, Any]]] = {}
    for role in raw.get("roles", []):
        roles.setdefault(str(role["person"]), []).append(role)
    organizations = {str(org["oid"]): org for org in raw["organizations"]}
    return DemoData(persons, organizations, kids, roles)


@lru_cache(maxsize=1)
def default_demo() -> DemoData:
    return load_demo()


def person_view(person: dict[str, Any], scopes: set[str], prefix: str = "") -> dict[str, Any]:
    """``/rs/prns/{oid}``: the fields the scopes (``kid_``-prefixed for a child) open."""
    view: dict[str, Any] = {"stateFacts": ["EntityRoot"], "oid": int(person["oid"])}
    for scope, names in PERSON_FIELDS.items():
        if prefix + scope in scopes:
            view.update({name: person[name] for name in names if person.get(name) is not None})
    defaults = {
        "trusted": bool(person.get("trusted")),
        "verifying": False,
        "status": "REGISTERED",
        "updatedOn": 1_735_689_600,
        "containsUpCfmCode": False,
    }
    view.update(defaults)
    ids = [doc["id"] for doc in person.get("documents", []) if doc["type"] == "RF_PASSPORT"]
    if ids:
        view["rIdDoc"] = ids[0]
    view["eTag"] = etag(view)
    return view


def element_view(item: dict[str, Any]) -> dict[str, Any]:
    view = {"stateFacts": ["Identifiable"], **item}
    view["eTag"] = etag(item)
    return view


def visible_contacts(person: dict[str, Any], scopes: set[str]) -> list[dict[str, Any]]:
    allowed = {kind for scope, kind in CONTACT_SCOPES.items() if scope in scopes}
    if "contacts" in scopes:
        allowed |= {"EML", "MBT", "PHN", "CEM"}
    return [element_view(c) for c in person.get("contacts", []) if c["type"] in allowed]


def visible_documents(
    person: dict[str, Any], scopes: set[str], prefix: str = ""
) -> list[dict[str, Any]]:
    allowed = {kind for scope, kind in DOC_SCOPES.items() if prefix + scope in scopes}
    return [element_view(d) for d in person.get("documents", []) if d["type"] in allowed]


def visible_addresses(person: dict[str, Any], scopes: set[str]) -> list[dict[str, Any]]:
    if "addresses" not in scopes:
        return []
    return [element_view(a) for a in person.get("addresses", [])]


def role_view(role: dict[str, Any], organization: dict[str, Any]) -> dict[str, Any]:
    """An element of ``/rs/prns/{oid}/roles`` (notes §5: oid, prnOid, names, ogrn, flags)."""
    view = {
        "oid": int(organization["oid"]),
        "prnOid": int(role["person"]),
        "fullName": organization["fullName"],
        "shortName": organization["shortName"],
        "ogrn": organization["ogrn"],
        "type": organization.get("type", "LEGAL"),
        "chief": bool(role.get("chief")),
        "admin": bool(role.get("admin")),
        "active": True,
        "hasRightOfSubstitution": False,
    }
    view["eTag"] = etag(view)
    return view


def organization_view(organization: dict[str, Any]) -> dict[str, Any]:
    view = {
        "stateFacts": ["EntityRoot"],
        "oid": int(organization["oid"]),
        "fullName": organization["fullName"],
        "shortName": organization["shortName"],
        "ogrn": organization["ogrn"],
        "inn": organization.get("inn"),
        "kpp": organization.get("kpp"),
        "type": organization.get("type", "LEGAL"),
    }
    view["eTag"] = etag(view)
    return view
