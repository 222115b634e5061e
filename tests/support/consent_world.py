"""The consent world the tests build on: valid parties and templates, an ESIA login and its
signature, people of a given age, and the ``Harness`` that drives the real app.

Callers are identified by opaque test bearer tokens mapped to principals (the ``harness``
fixture in ``fixtures_consent.py`` installs the mapping on ``app.state.principal_resolver``, the
kernel's hook); people, children and guardianships are created through ``idp.login.on_login``
(the real identity code). Every builder makes fresh identifiers: the databases are shared by a
worker's tests.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx

from consent import parties
from consent.catalogue import load_catalogue
from consent.lifecycle import approve, create_request
from consent.parties import register_organization
from consent.signatures import Signature
from consent.templates import publish_template
from idp import demo, login, schools, statuses
from idp.upstream import UpstreamChild, UpstreamIdentity
from propusk.db import session_scope, utcnow
from propusk.security import AuthContext, Principal, RoleGrant

TEMPLATE_TEXT = (
    "Я, {субъект}, даю согласие оператору на обработку моих персональных данных "
    "(фамилия, имя, отчество; оценки) в целях проведения онлайн-аттестации. "
    "Согласие действует 365 дней и может быть отозвано в личном кабинете."
)


def inn10() -> str:
    """A random legal-entity ИНН with correct check digit (independent implementation)."""
    d = [random.randint(0, 9) for _ in range(9)]
    w = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    return "".join(map(str, d)) + str(sum(a * b for a, b in zip(w, d, strict=True)) % 11 % 10)


def ogrn13() -> str:
    body = str(random.choice([1, 5])) + "".join(str(random.randint(0, 9)) for _ in range(11))
    return body + str(int(body) % 11 % 10)


def org_fields(kind: str = "operator", name: str = "ООО Ромашка", **overrides) -> dict:
    """A valid organisation registration (fresh ИНН/ОГРН, storage in Russia)."""
    fields = {
        "kind": kind,
        "name": name,
        "inn": inn10(),
        "ogrn": ogrn13(),
        "address": "Москва",
        "storage_country": "RU",
        "storage_location": "ЦОД",
        "registry_number": "77-1",
    }
    return {**fields, **overrides}


def esia_auth(**over) -> AuthContext:
    """A fresh ESIA login of a confirmed account, as Propusk's own pages carry it."""
    values = {
        "auth_time": utcnow(),
        "method": "esia:pwd",
        "acr": "urn:propusk:acr:esia:confirmed",
        "confirmed": True,
        "session_hash": "test-session",
    }
    return AuthContext(**{**values, **over})


def signature(**over) -> Signature:
    """A signature made in such a login (no document: the simple-form service path)."""
    return Signature(esia_auth(**over))


def years_ago(years: int, days: int = 0) -> date:
    today = utcnow().date()
    try:
        return today.replace(year=today.year - years) - timedelta(days=days)
    except ValueError:
        return date(today.year - years, 3, 1) - timedelta(days=days)


@dataclass
class Harness:
    client: object
    runtime: object
    tokens: dict[str, Principal] = field(default_factory=dict)

    # --- principals -----------------------------------------------------------------------
    def token_for(self, principal: Principal) -> dict[str, str]:
        token = secrets.token_urlsafe(16)
        self.tokens[token] = principal
        return {"Authorization": f"Bearer {token}"}

    def admin(self) -> dict[str, str]:
        return self.token_for(
            Principal(
                kind="platform_admin",
                subject="person:admin",
                roles=(RoleGrant("platform_admin", "*"),),
                channel="session",
            )
        )

    def org_client(self, org_id: str, role: str) -> dict[str, str]:
        client_id = f"{role}-{org_id[:8]}"
        return self.token_for(
            Principal(
                kind="client",
                subject=f"client:{client_id}",
                client_id=client_id,
                organization_id=uuid.UUID(org_id),
                roles=(RoleGrant(role, f"org:{org_id}"),),
            )
        )

    def page_person(self, person_id: uuid.UUID) -> dict[str, str]:
        """Propusk's own pages as this person: no role carried, the engine's links decide
        (statuses, organisation roles)."""
        return self._on_pages(person_id, ())

    def person_headers(self, person_id: uuid.UUID) -> dict[str, str]:
        return self._on_pages(person_id, (RoleGrant("student", "*"),))

    def _on_pages(self, person_id: uuid.UUID, roles: tuple[RoleGrant, ...]) -> dict[str, str]:
        subject = f"person:{person_id}"
        return self.token_for(
            Principal(
                kind="person",
                subject=subject,
                person_id=person_id,
                roles=roles,
                channel="session",
                auth=esia_auth(),
            )
        )

    def relying_party(self, person_id: uuid.UUID, scopes: set[str]) -> dict[str, str]:
        """A relying party ("e-diary") holding the person's access token with these scopes:
        held to them, and never signing, withdrawing or demanding for the person."""
        return self.token_for(
            Principal(
                kind="person",
                subject=f"person:{person_id}",
                person_id=person_id,
                client_id="e-diary",
                scopes=frozenset({"openid", *scopes}),
                roles=(RoleGrant("student", "*"), RoleGrant("parent", "*")),
                channel="token",
            )
        )

    # --- people (real idp code) -----------------------------------------------------------
    def person(self, birth: date, children: tuple[date, ...] = ()) -> tuple[uuid.UUID, list]:
        """A person (and their children) via idp.login.on_login; returns (id, child ids)."""
        from idp import guardianship, identity, login

        oid = str(random.randint(10**9, 10**10))
        kids = tuple(
            UpstreamChild(
                esia_oid=str(random.randint(10**9, 10**10)),
                last_name="Петров",
                first_name=f"Ребёнок{i}",
                birth_date=b,
            )
            for i, b in enumerate(children)
        )
        ident = UpstreamIdentity(
            esia_oid=oid,
            last_name="Петрова",
            first_name="Анна",
            middle_name="Сергеевна",
            birth_date=birth,
            trusted=True,
            children=kids,
        )
        with session_scope(self.runtime.sessionmaker) as s:
            person = login.on_login(s, ident, settings=self.runtime.settings)
            child_ids = [c.id for c in guardianship.guardianship_children(s, person.id)]
            by_oid = {identity.get_person(s, c).esia_oid: c for c in child_ids}
            ordered = [by_oid[k.esia_oid] for k in kids]
            return person.id, ordered

    # --- parties and templates through the API --------------------------------------------
    def organization(self, kind: str, **over) -> dict:
        body = organization_body(kind, **over)
        r = self.client.post("/api/v1/organizations", json=body, headers=self.admin())
        assert r.status_code == 201, r.text
        return r.json()

    def catalogue(self) -> None:
        with session_scope(self.runtime.sessionmaker) as s:
            load_catalogue(s)

    def template_body(self, **over) -> dict:
        return {
            "key": "attestation.consent",
            "text": TEMPLATE_TEXT,
            "purpose": "attestation.online",
            "categories": ["person.fullname", "education.grades", "person.snils"],
            "actions": ["сбор", "хранение", "использование", "передача"],
            "processing_methods": ["automated"],
            "term_days": 365,
            "withdrawal_method": "В личном кабинете или письменным заявлением",
            "form": "any",
            **over,
        }

    def template(self, op_headers: dict, **over) -> dict:
        r = self.client.post(
            "/api/v1/consent/templates", json=self.template_body(**over), headers=op_headers
        )
        assert r.status_code == 201, r.text
        return r.json()

    def request(self, op_headers: dict, template_id: str, subject_id, **over) -> dict:
        body = {"template_id": template_id, "subject_id": str(subject_id), **over}
        r = self.client.post("/api/v1/consent/requests", json=body, headers=op_headers)
        assert r.status_code == 201, r.text
        return r.json()

    def act(self, who: uuid.UUID, consent_id: str, action: str, expect: int = 200) -> dict:
        """``approve`` signs the document as the API shows it (``GET …/document``)."""
        headers = self.person_headers(who)
        body = None
        if action == "approve":
            shown = self.client.get(f"/api/v1/consents/{consent_id}/document", headers=headers)
            body = {"document_sha256": shown.json().get("sha256", "0" * 64)}
        r = self.client.post(f"/api/v1/consents/{consent_id}/{action}", headers=headers, json=body)
        assert r.status_code == expect, r.text
        return r.json()

    def relate(self, org: dict, subject_id) -> uuid.UUID:
        """``relate`` for an organisation answered by the API."""
        return relate(self.runtime, org["ogrn"], org["name"], subject_id)

    def push(self, sup_headers: dict, subject_id, category: str, value, expect: int = 200):
        r = self.client.put(
            f"/api/v1/subjects/{subject_id}/data/{category}",
            json={"value": value},
            headers=sup_headers,
        )
        assert r.status_code == expect, r.text
        return r

    def pull(
        self, op_headers: dict, subject_id, categories: str, purpose: str = "attestation.online"
    ):
        return self.client.get(
            f"/api/v1/subjects/{subject_id}/data",
            params={"purpose": purpose, "categories": categories},
            headers=op_headers,
        )


@dataclass
class World:
    """One operator, one supplier, a published template: the common starting point."""

    h: Harness
    op: dict
    op_h: dict
    sup: dict
    sup_h: dict
    tpl: dict


# --- driving the services directly (races, batches, live servers) ----------------------


def relate(rt, ogrn: str, name: str, subject_id: uuid.UUID) -> uuid.UUID:
    """Make the subject a student of the school that is the organisation with this ОГРН (the
    same legal entity; the school is registered once); returns the school id. A supplier writes
    a subject's data only with such a relation (or a consent that names it)."""

    with session_scope(rt.sessionmaker) as s:
        school = schools.find_school(s, None, ogrn) or schools.register_school(
            s, ogrn=ogrn, name=name, actor="test"
        )
        if not any(st.school_id == school.id for st in statuses.active_statuses(s, subject_id)):
            statuses.grant_status(
                s, subject_id, "student", "roster", school_id=school.id, actor="test"
            )
        return school.id


def operator_with_template(rt) -> tuple[uuid.UUID, uuid.UUID]:
    """A registered operator with a published template (ФИО, transfer, 30 days): ids."""
    with session_scope(rt.sessionmaker) as s:
        load_catalogue(s)
        org = register_organization(
            s, org_fields(name="ООО Гонка", registry_number="77-2"), actor="system"
        )
        tpl = publish_template(
            s,
            org,
            template_fields(key="race.consent", text="Согласие на передачу ФИО"),
            actor="system",
        )
        return org.id, tpl.id


def given_consent(rt, org_id, tpl_id, supplier_id=None) -> tuple[uuid.UUID, uuid.UUID]:
    """An adult who logged in and approved a request on that template (naming the supplier,
    if given): (person, consent)."""

    with session_scope(rt.sessionmaker) as s:
        person = login.on_login(
            s,
            UpstreamIdentity(
                esia_oid=uuid.uuid4().hex[:12],
                last_name="Гонкин",
                first_name="Пётр",
                birth_date=years_ago(30),
            ),
            settings=rt.settings,
        )
        org = parties.get(s, org_id)
        c = create_request(
            s,
            org,
            template_id=tpl_id,
            subject_id=person.id,
            categories=None,
            purpose=None,
            supplier_id=supplier_id,
            actor="system",
            now=utcnow(),
        )
        approve(s, c.id, person.id, now=utcnow(), signature=signature())
        return person.id, c.id


def template_fields(**over) -> dict:
    """A valid template publication (ФИО, transfer, 30 days, simple form)."""
    fields = {
        "key": "test.consent." + secrets.token_hex(3),
        "text": "Согласие на передачу ФИО для онлайн-аттестации.",
        "purpose": "attestation.online",
        "categories": ["person.fullname"],
        "actions": ["передача"],
        "processing_methods": ["automated"],
        "term_days": 30,
        "withdrawal_method": "в личном кабинете",
        "form": "any",
    }
    return {**fields, **over}


# --- over a live server: an operator with its own client, requests with its token ----------

SIGNING_TEXT = (
    "Я даю письменное согласие на обработку моих биометрических персональных данных (шаблон "
    "изображения лица) в целях идентификации при онлайн-аттестации."
)


def signing_operator(rt, form: str = "written") -> dict:
    """A registered operator with a template; its client's token."""
    from idp.oidc import clients

    with session_scope(rt.sessionmaker) as s:
        demo.seed(s, rt.settings)
        load_catalogue(s)
        row, secret = clients.create_client(
            s, name="op-" + secrets.token_hex(3), grant_types=["client_credentials"]
        )
        org = register_organization(
            s,
            org_fields(
                name="ООО «Прокторинг»",
                address="г. Казань, ул. Баумана, д. 1",
                client_id=row.client_id,
            ),
            actor="test",
        )
        written = form == "written"
        tpl = publish_template(
            s,
            org,
            {
                "key": "signing." + secrets.token_hex(3),
                "text": SIGNING_TEXT,
                "purpose": "biometric.identification" if written else "attestation.online",
                "categories": ["biometric.face_template"] if written else ["person.fullname"],
                "actions": ["сбор", "хранение", "использование"],
                "processing_methods": ["automated"],
                "term_days": 365,
                "withdrawal_method": "В личном кабинете Пропуска",
                "form": form,
            },
            actor="test",
        )
        return {
            "client": (row.client_id, secret),
            "org": org.name,
            "inn": org.inn,
            "template": str(tpl.id),
        }


def request_consent(url: str, rt, op: dict, oid: str) -> str:
    """The operator of ``signing_operator`` requests a consent of the person with this ESIA
    account, over HTTP with its client_credentials token: the request's id."""
    from idp import identity

    with session_scope(rt.sessionmaker) as s:
        person = identity.get_person_by_oid(s, oid)
        subject = str(person.id)
    token = httpx.post(
        url + "/oauth2/token", auth=op["client"], data={"grant_type": "client_credentials"}
    ).json()["access_token"]
    r = httpx.post(
        url + "/api/v1/consent/requests",
        headers={"Authorization": f"Bearer {token}"},
        json={"template_id": op["template"], "subject_id": subject},
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def organization_body(kind: str = "operator", **over) -> dict:
    """A valid ``POST /api/v1/organizations`` body (fresh ИНН and ОГРН), with ``over`` on top."""
    return {
        "kind": kind,
        "name": f"ООО {kind} {secrets.token_hex(3)}",
        "inn": inn10(),
        "ogrn": ogrn13(),
        "address": "г. Москва, ул. Тверская, д. 1",
        "storage_country": "RU",
        "storage_location": "ЦОД Москва-1",
        "registry_number": "77-23-000123",
        **over,
    }
