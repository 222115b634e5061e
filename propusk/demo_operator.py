"""The operator staff's console, lived in (``propusk demo --states``): three adults withdrew the
attestation consent they had given the demo's operator (ГБУ ТО «РЦЦО») — one forty days ago
(its destruction task is overdue), one yesterday (waiting for the staff's acknowledgement), one
twenty days ago (acknowledged, the data destroyed). Their staff (ESIA simulator: Егорова Юлия,
1000400026; the director Тихонов Игорь, 1000400025, its head) see them at ``/operator/<id>``.

Once: nothing is made when the first of these people is already known. The past is the one
thing not of the real clock (the acts carry their day).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from consent import destruction, lifecycle
from consent.console import service as console
from consent.models import Template
from consent.parties import Party
from consent.signatures import Signature
from idp import identity, login
from idp.upstream import UpstreamIdentity
from propusk.db import utcnow
from propusk.security import AuthContext
from propusk.settings import Settings

DEMO_ACTOR = "system:demo-operator"
# (ESIA oid, last, first, middle, birth date, days since given, days since withdrawn, settled)
PEOPLE = (
    ("1000490001", "Кузнецова", "Мария", "Игоревна", date(2006, 4, 12), 50, 40, False),
    ("1000490002", "Орлов", "Денис", "Андреевич", date(2005, 9, 3), 60, 1, False),
    ("1000490003", "Лебедева", "Ольга", "Павловна", date(2007, 1, 25), 90, 20, True),
)


def seed_operator_console(
    session: Session, settings: Settings, operator: Party, template: Template
) -> None:
    """Three withdrawals of the operator's consents (see the module), once."""
    if identity.get_person_by_oid(session, PEOPLE[0][0]) is not None:
        return
    now = utcnow()
    for oid, last, first, middle, born, given_days, withdrawn_days, settled in PEOPLE:
        person = login.on_login(
            session,
            UpstreamIdentity(
                esia_oid=oid,
                last_name=last,
                first_name=first,
                middle_name=middle,
                birth_date=born,
                trusted=True,
            ),
            settings=settings,
        )
        given_at = now - timedelta(days=given_days)
        consent = lifecycle.create_request(
            session,
            operator,
            template_id=template.id,
            subject_id=person.id,
            categories=None,
            purpose=None,
            supplier_id=None,
            actor=DEMO_ACTOR,
            now=given_at,
        )
        auth = AuthContext(auth_time=given_at, method="esia:pwd", confirmed=True)
        lifecycle.approve(session, consent.id, person.id, now=given_at, signature=Signature(auth))
        withdrawn_at = now - timedelta(days=withdrawn_days)
        lifecycle.withdraw(session, consent.id, person.id, now=withdrawn_at)
        if settled:
            settled_at = withdrawn_at + timedelta(days=2)
            for event in console.stop_events_of_consent(session, consent.id):
                console.acknowledge(session, operator, event.id, actor=DEMO_ACTOR, now=withdrawn_at)
            for task in console.destruction_tasks(session, operator, True, now).tasks:
                if task.consent_id == consent.id:
                    destruction.confirm_destruction(
                        session, operator, task.id, actor=DEMO_ACTOR, now=settled_at
                    )
