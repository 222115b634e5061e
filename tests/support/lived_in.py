"""A subject whose data has lived: consents in several states, transfers given and refused,
values in the vault — made through the real service functions, for the pages that show them.

``lived_in(rt, subject_id, signer_id)`` registers two operators and a supplier (Russian names,
fresh ИНН/ОГРН), publishes three templates and then, as the person who signs for the subject
(themselves, or the representative of a child under 14):

* gives the attestation consent (ФИО, оценки) — it stays in force;
* gives the olympiad consent (ФИО, достижения), lets the olympiad operator receive the data,
  then withdraws it — the next request of that operator is refused;
* refuses the regional-statistics request (посещаемость) — that operator's request is refused.

The supplier (the subject's school) writes ФИО, оценки and достижения into the vault first.
Works on the in-process app and on a live server's runtime alike. Returns the organisations'
names and the consents' ids.
"""

from __future__ import annotations

import uuid

from consent import flows, parties, vault
from consent.catalogue import load_catalogue
from consent.lifecycle import approve, create_request, refuse, withdraw
from consent.parties import register_organization
from consent.templates import publish_template
from propusk.db import session_scope, utcnow
from tests.support.consent_world import org_fields, relate, signature, template_fields

OPERATOR = "ООО «Онлайн-аттестация»"
OLYMPIAD = "АНО «Олимпиадный центр»"
STATISTICS = "ГКУ «Центр оценки качества образования»"
SCHOOL = "МБОУ «Школа № 17»"


def _org(session, kind: str, name: str, city: str):
    fields = org_fields(
        kind,
        name=name,
        address=f"г. {city}, ул. Ленина, д. 5",
        storage_location=f"ЦОД «{city}-1»",
    )
    return register_organization(session, fields, actor="test")


def _template(session, operator, purpose: str, categories: list[str]):
    fields = template_fields(
        purpose=purpose,
        categories=categories,
        actions=["сбор", "хранение", "использование", "передача"],
        processing_methods=["automated", "mixed"],
        term_days=365,
    )
    return publish_template(session, operator, fields, actor="test")


def _request(session, operator, template_id: uuid.UUID, subject_id: uuid.UUID):
    return create_request(
        session,
        operator,
        template_id=template_id,
        subject_id=subject_id,
        categories=None,
        purpose=None,
        supplier_id=None,
        actor="test",
        now=utcnow(),
    )


def lived_in(rt, subject_id: uuid.UUID, signer_id: uuid.UUID) -> dict:
    settings = rt.settings
    with session_scope(rt.sessionmaker) as s:
        load_catalogue(s)
        operator = _org(s, "operator", OPERATOR, "Москва")
        olympiad = _org(s, "operator", OLYMPIAD, "Казань")
        statistics = _org(s, "operator", STATISTICS, "Тверь")
        school = _org(s, "supplier", SCHOOL, "Тверь")
        grades = _template(
            s, operator, "attestation.online", ["person.fullname", "education.grades"]
        )
        contest = _template(
            s, olympiad, "olympiad.registration", ["person.fullname", "education.achievements"]
        )
        survey = _template(s, statistics, "statistics.regional", ["education.attendance"])
        names = {"operator": operator, "olympiad": olympiad, "statistics": statistics}
        ids = {k: (o.id, o.ogrn) for k, o in {**names, "school": school}.items()}
        templates = (grades.id, contest.id, survey.id)
    relate(rt, ids["school"][1], SCHOOL, subject_id)
    now = utcnow()
    with session_scope(rt.sessionmaker) as s:
        org = {k: parties.get(s, v[0]) for k, v in ids.items()}
        for category, value in (
            ("person.fullname", "Смирнов Артём Дмитриевич"),
            ("education.grades", {"математика": 5, "русский язык": 4}),
            ("education.achievements", ["Региональный этап олимпиады по математике"]),
        ):
            vault.put(s, settings, org["school"], subject_id, category, value, actor="t", now=now)
        given = _request(s, org["operator"], templates[0], subject_id)
        approve(s, given.id, signer_id, now=now, signature=signature())
        withdrawn = _request(s, org["olympiad"], templates[1], subject_id)
        approve(s, withdrawn.id, signer_id, now=now, signature=signature())
        refused = _request(s, org["statistics"], templates[2], subject_id)
        refuse(s, refused.id, signer_id, now=now, reason="не хочу")
        consents = {"given": given.id, "withdrawn": withdrawn.id, "refused": refused.id}
        _pull(s, settings, org["operator"], subject_id, "attestation.online", given.categories)
        _pull(
            s, settings, org["olympiad"], subject_id, "olympiad.registration", withdrawn.categories
        )
    with session_scope(rt.sessionmaker) as s:
        withdraw(s, consents["withdrawn"], signer_id, now=utcnow(), reason="передумал")
    with session_scope(rt.sessionmaker) as s:
        org = {k: parties.get(s, v[0]) for k, v in ids.items()}
        _pull(
            s, settings, org["olympiad"], subject_id, "olympiad.registration", ["person.fullname"]
        )
        _pull(
            s,
            settings,
            org["statistics"],
            subject_id,
            "statistics.regional",
            ["education.attendance"],
        )
    return {
        "operators": [OPERATOR, OLYMPIAD, STATISTICS],
        "school": SCHOOL,
        "consents": consents,
        "organizations": {k: v[0] for k, v in ids.items()},
    }


def _pull(session, settings, operator, subject_id, purpose: str, categories) -> None:
    flows.pull(
        session,
        settings,
        operator,
        subject_id=subject_id,
        purpose=purpose,
        categories=list(categories),
        actor=f"client:{operator.id}",
        now=utcnow(),
    )
