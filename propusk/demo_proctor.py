"""The proctor's console, lived in (``propusk demo --states``): the computer science teacher of
school № 17, Зайцев Павел (ESIA simulator 1000400004), is its proctor and has a session open
today, «Пробный ОГЭ по информатике», for the three students the demo knows: Соколова Екатерина
(18) showed her passport and is verified, Волкова Полина has started on the document path and
waits for the proctor's decision, Смирнов Артём has not started. None of them gave a biometric
consent, so the demo needs no face photos; the biometric path is shown by the browser tests.

Once: nothing is made when the proctor already has a session. The window opens a quarter of an
hour before the seed and stays open twelve hours.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from biometrics import checks, exams, proctoring
from idp import identity, login, statuses
from idp.upstream import UpstreamIdentity
from propusk.db import utcnow
from propusk.settings import Settings

DEMO_ACTOR = "system:demo"
PROCTOR_OID = "1000400004"  # Зайцев Павел Юрьевич, teacher (idp/esia/simulator/fixtures)
TAKER_OIDS = ("1000400015", "1000400013", "1000400006")  # verified, started, not started
COURSE, TITLE = "Информатика", "Пробный ОГЭ по информатике"


def seed_proctor_console(
    session: Session, settings: Settings, school_id: uuid.UUID, reported: UpstreamIdentity
) -> None:
    """The proctor (``reported``: how ESIA reports them), their status and today's session."""
    proctor = identity.get_person_by_oid(session, PROCTOR_OID)
    if proctor is None:
        proctor = login.on_login(session, reported, settings=settings)
    now = utcnow()
    if not exams.is_proctor(session, proctor.id, school_id):
        statuses.appoint_proctor(session, school_id, proctor.id, actor=DEMO_ACTOR)
    if exams.sessions_of(session, proctor.id, now)["sessions"]:
        return
    takers = _takers(session)
    if not takers:
        return
    exam = exams.create_exam_session(
        session,
        proctor_id=proctor.id,
        school_id=school_id,
        course=COURSE,
        title=TITLE,
        opens_at=now - timedelta(minutes=15),
        closes_at=now + timedelta(hours=12),
        takers=takers,
        keep_frames_days=0,
        now=now,
    )
    _lived_in(session, settings, exam.id, proctor.id, takers)


def _takers(session: Session) -> list[uuid.UUID]:
    """The demo's students known as people (the lived-in personas made them)."""
    found = (identity.get_person_by_oid(session, oid) for oid in TAKER_OIDS)
    return [person.id for person in found if person is not None]


def _lived_in(
    session: Session,
    settings: Settings,
    exam_id: uuid.UUID,
    proctor_id: uuid.UUID,
    takers: list[uuid.UUID],
) -> None:
    """The first taker started and was verified by her passport, the second only started."""
    now = utcnow()
    for person_id in takers[:2]:
        checks.start(session, exam_id=exam_id, person_id=person_id, now=now)
    document: dict[str, Any] = {"type": "passport", "number_last4": "3817", "matches_photo": True}
    proctoring.decide(
        session,
        settings,
        exam_id=exam_id,
        proctor_id=proctor_id,
        person_id=takers[0],
        decision="verified",
        note="паспорт предъявлен, лицо совпадает с фото в документе",
        identity_document=document,
        now=now,
    )
