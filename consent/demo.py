"""Demo seed for the consent ledger: the catalogue, the demo operator and one pending request.

Idempotent (``make run`` seeds on every start). The pending request is addressed to a demo child
(under 14), so the parent who logs in through the ESIA simulator sees something to answer.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from consent import parties
from consent import repository as repo
from consent.catalogue import load_catalogue
from consent.lifecycle import create_request, list_consents
from consent.templates import publish_template
from idp import identity
from propusk.db import utcnow

DEMO_ACTOR = "system:demo"
OPERATOR_OID = "1000500002"  # ГБУ ТО «РЦЦО» in the ESIA simulator fixture
CHILD_OID = "1000400006"  # Смирнов Артём, 7А; parents 1000400016 and 1000400017
TEMPLATE_KEY = "demo.attestation.online"
TEMPLATE_TEXT = (
    "Я, законный представитель обучающегося, даю согласие ГБУ ТО «Региональный центр цифрового "
    "образования» (ОГРН 1166952012347, г. Тверь) на обработку персональных данных ребёнка: "
    "фамилия, имя, отчество; результаты обучения — в целях организации промежуточной и итоговой "
    "аттестации по онлайн-курсам. Действия: сбор, запись, хранение, использование, передача "
    "(предоставление). Способ обработки: автоматизированный. Срок действия: один год. Согласие "
    "может быть отозвано в личном кабинете или письменным заявлением оператору."
)


def seed(session: Session, idp_ids: dict[str, uuid.UUID]) -> None:
    if repo.get_category(session, "person.fullname") is None:
        load_catalogue(session)
    operator = _ensure_operator(session, idp_ids.get(OPERATOR_OID))
    if operator is None:
        return
    template = _ensure_template(session, operator)
    _ensure_request(session, operator, template.id)


def _ensure_operator(session: Session, organization_id: uuid.UUID | None):
    """The simulator's operator, known to the registry from the idp seed: completed once."""
    if organization_id is None:
        return None
    party = parties.get(session, organization_id)
    if party is not None:
        return party
    return parties.register_organization(
        session,
        {
            "kind": "operator",
            "name": "ГБУ ТО «Региональный центр цифрового образования»",
            "inn": "6952051232",
            "ogrn": "1166952012347",
            "address": "170100, г. Тверь, ул. Советская, д. 1",
            "storage_country": "RU",
            "storage_location": "ЦОД ГБУ ТО «РЦЦО», г. Тверь",
            "registry_number": "69-16-000123",
        },
        actor=DEMO_ACTOR,
    )


def _ensure_template(session: Session, operator):
    existing = repo.latest_template(session, operator.id, TEMPLATE_KEY)
    if existing is not None:
        return existing
    return publish_template(
        session,
        operator,
        {
            "key": TEMPLATE_KEY,
            "language": "ru",
            "text": TEMPLATE_TEXT,
            "purpose": "attestation.online",
            "categories": ["person.fullname", "education.grades"],
            "actions": ["сбор", "запись", "хранение", "использование", "передача"],
            "processing_methods": ["automated"],
            "term_days": 365,
            "withdrawal_method": "В личном кабинете или письменным заявлением оператору",
            "form": "any",
            "request_ttl_days": 30,
        },
        actor=DEMO_ACTOR,
    )


def _ensure_request(session: Session, operator, template_id: uuid.UUID) -> None:
    child = identity.get_person_by_oid(session, CHILD_OID) or identity.create_person(
        session,  # known to ESIA; the parent's first login links the guardianship
        CHILD_OID,
        last_name="Смирнов",
        first_name="Артём",
        middle_name="Дмитриевич",
        birth_date=date(2016, 4, 12),
    )
    asked = list_consents(session, child.id, utcnow())
    if any(c.template_id == template_id for c in asked):
        return
    create_request(
        session,
        operator,
        template_id=template_id,
        subject_id=child.id,
        categories=None,
        purpose=None,
        supplier_id=None,
        actor=DEMO_ACTOR,
        now=utcnow(),
    )
