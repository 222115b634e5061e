"""What the platform administrator finds in the lived-in demo (``propusk demo --states``):
an operator located abroad that stores the data in Russia (its transfers are cross-border, with
the RKN notice on file), an incident whose 24-hour RKN notice was missed by the demo operator and
an RKN request the olympiad centre has not answered in 10 working days — the console's overdue
list is not empty. Idempotent: the incident and the request are made once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from consent import obligations, parties
from idp import schools
from idp.oidc import clients
from propusk.db import utcnow

DEMO_ACTOR = "system:demo"
SITE = "Сайт школы № 17"
FOREIGN_OPERATOR: dict[str, Any] = {
    "kind": "operator",
    "name": "ОАО «Минский центр тестирования»",
    "inn": "7707123401",
    "ogrn": "1027700123450",
    "address": "220030, Республика Беларусь, г. Минск, ул. Ленина, д. 10",
    "country": "BY",
    "storage_country": "RU",
    "storage_location": "ЦОД «Тверь-1», г. Тверь",
    "registry_number": "77-20-000789",
    "cross_border_notice_ref": "РКН № 12345-ТГ от 01.09.2026",
}


def seed_platform(
    session: Session, operator_id: uuid.UUID, olympiad_id: uuid.UUID, supplier_id: uuid.UUID
) -> None:
    """The foreign-located operator, the organisations' applications and two overdue
    obligations (once)."""
    if schools.find_organization(session, None, FOREIGN_OPERATOR["ogrn"]) is None:
        parties.register_organization(session, FOREIGN_OPERATOR, actor=DEMO_ACTOR)
    _applications(session, operator_id, supplier_id)
    now = utcnow()
    if any(o["kind"] == "incident" for o in obligations.overdue(session, now, operator_id)):
        return
    obligations.record_incident(
        session,
        obligations.Registrar(DEMO_ACTOR, operator_id),
        detected_at=now - timedelta(days=4),
        description="Утечка выгрузки журнала посещаемости через открытую ссылку",
        subjects_affected=42,
        categories=[],
        operator_id=None,
        now=now,
    )
    obligations.record_rkn_request(
        session,
        obligations.Registrar(DEMO_ACTOR, olympiad_id),
        received_at=now - timedelta(days=30),
        rkn_ref="РКН-2026-0815",
        summary="Запрос сведений об обработке данных участников олимпиады",
        operator_id=None,
        now=now,
    )


def _applications(session: Session, operator_id: uuid.UUID, supplier_id: uuid.UUID) -> None:
    """The operator's server, the e-journal's and a school website logging people in."""
    known = {row.name for row in clients.list_clients(session)}
    servers = (
        ("Сервер ГБУ ТО «РЦЦО»", operator_id, "operator"),
        ("Выгрузка оценок «Электронного журнала»", supplier_id, "supplier"),
    )
    for name, org_id, role in servers:
        if name not in known:
            clients.create_client(
                session,
                name=name,
                grant_types=["client_credentials"],
                role=role,
                organization_id=org_id,
                actor=DEMO_ACTOR,
            )
    if SITE not in known:
        clients.create_client(
            session,
            name=SITE,
            grant_types=["authorization_code", "refresh_token"],
            redirect_uris=["https://school17.example/login/callback"],
            actor=DEMO_ACTOR,
        )
