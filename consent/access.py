"""Art. 14 access requests: a participant asks what Propusk knows and does with their data.

A request is due in 10 working days from receipt (check 10; its clock is an obligation of
``consent.obligations``, which may extend it or refuse with reasons). The answer (art. 14
part 7) is built from the ledger, the vault and the transfer log: legal bases and purposes,
operators, recipients, the data held, the periods, the rights procedure, cross-border
transfers and processors. Producing it the first time meets the clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import catalogue, deadlines, parties, representation
from consent import repository as repo
from consent.catalogue import CategoryInfo
from consent.documents import METHODS_RU
from consent.models import AccessRequest, Consent, Purpose, Template, Transfer
from consent.obligations.demands import access_answered, open_access
from consent.parties import Party
from consent.wording import legal_basis_text
from idp import identity
from propusk.db import utcnow
from propusk.errors import NotFound
from propusk.messages import reason_text, state_text

RIGHTS_PROCEDURE = (
    "Согласие отзывается в личном кабинете или письменным заявлением оператору "
    "(ст. 9 ч. 2 152-ФЗ); запрос сведений — ст. 14 152-ФЗ; ответ — в течение 10 рабочих "
    "дней с даты получения запроса."
)
# The subject's rights (152-FZ art. 9, 14, 15–17, 20, 21) and where to exercise them.
RIGHTS = (
    "Получать сведения об обработке своих персональных данных (ст. 14): в личном кабинете, "
    "раздел «Запрос сведений»; ответ — не позднее 10 рабочих дней, срок может быть продлён "
    "на 5 рабочих дней с уведомлением о причинах.",
    "Требовать уточнения неполных, устаревших или неточных данных (ч. 1 ст. 14, ч. 3 ст. 20, "
    "ч. 1 ст. 21): раздел «Сообщить о неверных данных»; на время проверки (до 7 рабочих дней) "
    "данные блокируются.",
    "Отозвать согласие (ч. 2 ст. 9): в личном кабинете, раздел «Согласия»; после отзыва "
    "обработка прекращается, данные уничтожаются в течение 30 дней, если нет иного законного "
    "основания (ч. 5 ст. 21).",
    "Требовать прекращения обработки (ч. 5.1 ст. 21): в личном кабинете; оператор обязан "
    "подтвердить прекращение в течение 10 рабочих дней.",
    "Не допускать принятия решений, порождающих юридические последствия, исключительно на "
    "основании автоматизированной обработки (ст. 16): решение о допуске к аттестации "
    "принимает проктор.",
    "Обжаловать действия или бездействие оператора в Роскомнадзор или в суд (ст. 17).",
)


def create_access_request(
    session: Session, subject_id: uuid.UUID, person_id: uuid.UUID, *, now: datetime
) -> AccessRequest:
    """Art. 14 access request: due in 10 working days from receipt (check 10)."""
    if identity.get_person(session, subject_id) is None:
        raise NotFound("no such participant", type="unknown-subject")
    row = AccessRequest(
        subject_id=subject_id,
        requested_by=person_id,
        received_at=now,
        due_date=deadlines.access_answer_due(now),
        status="open",
    )
    repo.add(session, row)
    open_access(session, row, now=now)
    audit(
        session,
        "consent.access_request",
        actor=f"person:{person_id}",
        subject=f"person:{subject_id}",
        body={"access_request_id": str(row.id)},
    )
    return row


def access_request_for_person(
    session: Session, request_id: uuid.UUID, person_id: uuid.UUID
) -> AccessRequest:
    """The request, if ``person_id`` may read it now (the subject or their representative)."""
    row = repo.get_access_request(session, request_id)
    if row is None:
        raise NotFound("no such access request")
    representation.acting_role(session, person_id, row.subject_id, utcnow(), "read")
    return row


def access_answer(session: Session, request: AccessRequest, *, now: datetime) -> dict[str, Any]:
    """The art. 14 part 7 answer, built from the ledger, the vault and the transfer log.

    Besides the codes, every item carries what a person reads: the catalogue's titles of
    purposes and categories, the legal basis in Russian words, consents named by purpose and
    operator, the organisations' names."""
    if request.status == "refused":
        return _access_refusal(request)
    subject_id = request.subject_id
    consents = repo.consents_of_subject(session, subject_id)
    templates = repo.templates_by_ids(session, [c.template_id for c in consents])
    transfers = repo.transfers_of_subject(session, subject_id, 1000)
    items = repo.vault_items(session, subject_id)
    orgs = parties.many(
        session,
        [c.operator_id for c in consents]
        + [t.operator_id for t in transfers if t.operator_id]
        + [i.supplier_id for i in items],
    )
    purposes = repo.purposes_by_keys(
        session, [c.purpose_key for c in consents] + [t.purpose_key for t in transfers]
    )
    words = _Words(
        categories=catalogue.categories(
            session,
            {k for c in consents for k in c.categories}
            | {k for t in transfers for k in [*t.allowed, *t.refused]}
            | {i.category_key for i in items},
        ),
        purposes=purposes,
        orgs=orgs,
        consents={c.id: c for c in consents},
    )
    person = identity.get_person(session, subject_id)
    if request.status != "answered":
        request.status = "answered"
        request.answered_at = now
        session.flush()
        access_answered(session, request, now=now)
    methods = sorted({m for t in templates.values() for m in t.processing_methods})
    return {
        "request": _request_brief(request),
        "subject": {"id": str(subject_id), "name": identity.full_name(person) if person else ""},
        "processing_confirmed": bool(consents or items or transfers),
        "legal_bases_and_purposes": [_basis(c, words) for c in consents],
        "processing_methods": methods,
        "processing_method_titles": [METHODS_RU.get(m, m) for m in methods],
        "operators": [
            _org_brief(orgs[c.operator_id])
            | {"consent_id": str(c.id), "purpose_title": words.purpose_title(c.purpose_key)}
            for c in consents
            if c.operator_id in orgs and c.given_at
        ],
        "recipients": _recipients(transfers, words),
        "refused_requests": _refused_requests(transfers, words),
        "data_held": [
            {
                "category": i.category_key,
                "category_title": words.category_title(i.category_key),
                "source": _org_brief(orgs[i.supplier_id]),
                "updated_at": i.updated_at.isoformat(),
            }
            for i in items
        ],
        "identity_data": _identity_data(person),
        "periods": _periods(consents, templates, words),
        "rights_procedure": RIGHTS_PROCEDURE,
        "rights": list(RIGHTS),
        "cross_border": [
            _org_brief(o) | {"notice_ref": o.cross_border_notice_ref}
            for o in orgs.values()
            if o.cross_border_notice_ref
        ],
        "processors": sorted({t.processor for t in templates.values() if t.processor}),
    }


@dataclass(frozen=True)
class _Words:
    """What the answer names things by: catalogue titles, organisations, consents."""

    categories: dict[str, CategoryInfo]
    purposes: dict[str, Purpose]
    orgs: dict[uuid.UUID, Party]
    consents: dict[uuid.UUID, Consent]

    def category_title(self, key: str) -> str:
        found = self.categories.get(key)
        return found.title if found else "категория, исключённая из перечня"

    def category_titles(self, keys) -> list[str]:
        return [self.category_title(k) for k in keys]

    def purpose_title(self, key: str) -> str:
        found = self.purposes.get(key)
        return found.title if found else "цель, исключённая из перечня"

    def org_name(self, org_id: uuid.UUID | None) -> str:
        found = self.orgs.get(org_id) if org_id else None
        return found.name if found else "организация не зарегистрирована"

    def consent_title(self, consent_id) -> str:
        """«<purpose title> — <operator name>»: how a person knows a consent."""
        try:
            consent = self.consents.get(uuid.UUID(str(consent_id)))
        except ValueError:
            consent = None
        if consent is None:
            return "согласие другого субъекта или удалённое согласие"
        return f"{self.purpose_title(consent.purpose_key)} — {self.org_name(consent.operator_id)}"


def _access_refusal(request: AccessRequest) -> dict[str, Any]:
    """A reasoned refusal (art. 14 part 8, art. 20 part 2) instead of the answer."""
    return {
        "request": _request_brief(request),
        "refused": True,
        "refusal_reason": request.refusal_reason,
    }


def _request_brief(request: AccessRequest) -> dict[str, Any]:
    return {
        "id": str(request.id),
        "received_at": request.received_at.isoformat(),
        "due_date": request.due_date.isoformat(),
        "answered_at": request.answered_at.isoformat() if request.answered_at else None,
    }


def _basis(c: Consent, words: _Words) -> dict[str, Any]:
    """One consent's purpose with its title and legal basis (empty when not catalogued)."""
    purpose = words.purposes.get(c.purpose_key)
    basis = purpose.legal_basis if purpose else ""
    return {
        "consent_id": str(c.id),
        "consent_title": words.consent_title(c.id),
        "purpose": c.purpose_key,
        "purpose_title": purpose.title if purpose else "",
        "legal_basis": basis,
        "legal_basis_text": legal_basis_text(basis),
        "operator_name": words.org_name(c.operator_id),
        "categories": [{"key": k, "title": words.category_title(k)} for k in c.categories],
        "state": c.state,
        "state_title": state_text(c.state),
        "given_at": _iso(c.given_at),
        "ended_at": _iso(c.ended_at),
    }


def _recipients(transfers: list[Transfer], words: _Words) -> list[dict[str, Any]]:
    """The transfers that released something: when, to whom, what, why."""
    return [
        {
            "transfer_id": str(t.id),
            "at": t.at.isoformat(),
            "operator": _org_brief(words.orgs[t.operator_id])
            if t.operator_id in words.orgs
            else None,
            "categories": t.allowed,
            "category_titles": words.category_titles(t.allowed),
            "purpose": t.purpose_key,
            "purpose_title": words.purpose_title(t.purpose_key),
            "legal_basis": t.legal_basis,
            "legal_basis_text": legal_basis_text(t.legal_basis),
            "consent_ids": t.consent_ids,
            "consent_titles": list(dict.fromkeys(words.consent_title(i) for i in t.consent_ids)),
        }
        for t in transfers
        if t.decision != "refused"
    ]


def _refused_requests(transfers: list[Transfer], words: _Words) -> list[dict[str, Any]]:
    """Requests for the subject's data the gate refused (wholly or for some categories):
    who asked, for what, and why nothing was released."""
    return [
        {
            "transfer_id": str(t.id),
            "at": t.at.isoformat(),
            "operator_name": words.org_name(t.operator_id),
            "purpose_title": words.purpose_title(t.purpose_key),
            "refused": [
                {
                    "category": key,
                    "category_title": words.category_title(key),
                    "reason": reason,
                    "reason_title": reason_text(reason),
                }
                for key, reason in t.refused.items()
            ],
        }
        for t in transfers
        if t.refused
    ]


def _identity_data(person) -> list[str]:
    """The identity data Propusk itself keeps (what, never the values), from ESIA."""
    if person is None:
        return []
    fields = (
        ("фамилия, имя, отчество", person.last_name),
        ("дата рождения", person.birth_date),
        ("пол", person.gender),
        ("СНИЛС", person.snils_enc),
        ("адрес электронной почты", person.email),
        ("номер телефона", person.phone),
    )
    return [title for title, value in fields if value]


def _periods(
    consents: list[Consent], templates: dict[uuid.UUID, Template], words: _Words
) -> list[dict[str, Any]]:
    """The validity and term of each consent that was given (a refused or unanswered request
    never started processing)."""
    return [
        {
            "consent_id": str(c.id),
            "consent_title": words.consent_title(c.id),
            "state_title": state_text(c.state),
            "valid_from": _iso(c.valid_from),
            "valid_until": _iso(c.valid_until),
            "ended_at": _iso(c.ended_at),
            "term_days": templates[c.template_id].term_days,
        }
        for c in consents
        if c.template_id in templates and c.given_at
    ]


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _org_brief(org: Party) -> dict[str, Any]:
    return {
        "id": str(org.id),
        "name": org.name,
        "inn": org.inn,
        "ogrn": org.ogrn,
        "address": org.address,
        "storage_location": org.storage_location,
    }
