"""Biometrics test harness: real people, schools, statuses and consents; a test principal hook;
distinct exam frames and the HTTP calls the tests share.

People come from ``idp.login.on_login`` (the real identity code), proctors from
``idp.statuses.appoint_proctor``, consents from the real consent ledger (template → request →
approval with an ESIA login, written form for biometrics). Callers are identified by opaque test
bearer tokens resolved, per request, to a Principal whose roles are the person's real statuses
(``app.state.principal_resolver`` is the kernel's hook for this).

Isolation: every ``Bio`` makes its own operator, consent templates, schools and people with fresh
random identifiers, so a test never depends on rows another test committed (the databases are
shared by the tests of a worker); assertions look at the test's own people and exams.
"""

from __future__ import annotations

import itertools
import random
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
import numpy as np
from fastapi import Request
from sqlalchemy import text

from audit import service as audit
from consent import catalogue, lifecycle, parties, signing
from consent import templates as consent_templates
from consent.parties import get as get_organization
from idp import guardianship, identity, login, schools, statuses
from idp.upstream import UpstreamChild, UpstreamIdentity
from propusk.db import session_scope, utcnow
from propusk.security import ANONYMOUS, Principal, RoleGrant
from tests.biometrics import photos
from tests.support.consent_world import esia_auth, ogrn13, organization_body
from tests.support.servers import start_live_server

BIOMETRIC_TEXT = (
    "Я даю письменное согласие на обработку моих биометрических персональных данных "
    "(шаблон изображения лица) в целях идентификации при онлайн-аттестации. Согласие "
    "действует 365 дней и может быть отозвано в личном кабинете."
)
RESULT_TEXT = (
    "Я даю согласие на передачу результатов аттестации и сведений о проверке личности "
    "в школу в целях учёта результатов онлайн-аттестации."
)
ENROLMENTS = "/api/v1/biometrics/enrolments"


def years_ago(years: int) -> date:
    today = utcnow().date()
    try:
        return today.replace(year=today.year - years) - timedelta(days=10)
    except ValueError:
        return date(today.year - years, 3, 1) - timedelta(days=10)


@dataclass
class Bio:
    client: object
    runtime: object
    tokens: dict[str, uuid.UUID] = field(default_factory=dict)
    operator_id: uuid.UUID | None = None
    templates: dict[str, uuid.UUID] = field(default_factory=dict)

    @property
    def sm(self):
        return self.runtime.sessionmaker

    # --- callers ------------------------------------------------------------------------
    def headers(self, person_id: uuid.UUID) -> dict[str, str]:
        token = secrets.token_urlsafe(16)
        self.tokens[token] = person_id
        return {"Authorization": f"Bearer {token}"}

    def resolve(self, request: Request, session) -> Principal:
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        person_id = self.tokens.get(token)
        if person_id is None:
            return ANONYMOUS
        grants = [
            RoleGrant(role, domain) for role, domain in statuses.role_grants(session, person_id)
        ]
        return Principal(
            kind="person",
            subject=f"person:{person_id}",
            person_id=person_id,
            roles=(RoleGrant("authenticated", "*"), *grants),
            channel="session",
        )

    # --- people and schools (real idp code) ---------------------------------------------
    def person(
        self,
        birth: date | None = None,
        children: tuple[date, ...] = (),
        name: tuple[str, str] = ("Иванова", "Мария"),
    ) -> tuple:
        kids = tuple(
            UpstreamChild(
                esia_oid=str(random.randint(10**9, 10**10)),
                last_name="Иванов",
                first_name=f"Ребёнок{i}",
                birth_date=b,
            )
            for i, b in enumerate(children)
        )
        ident = UpstreamIdentity(
            esia_oid=str(random.randint(10**9, 10**10)),
            last_name=name[0],
            first_name=name[1],
            birth_date=birth or years_ago(30),
            trusted=True,
            children=kids,
        )
        with session_scope(self.sm) as s:
            person = login.on_login(s, ident, settings=self.runtime.settings)
            kids_on_file = guardianship.guardianship_children(s, person.id)
            by_oid = {identity.get_person(s, c.id).esia_oid: c.id for c in kids_on_file}
            return person.id, [by_oid[k.esia_oid] for k in kids]

    def school(self) -> uuid.UUID:
        with session_scope(self.sm) as s:
            return schools.register_school(
                s, ogrn=ogrn13(), name=f"Школа № {random.randint(1, 9999)}", actor="test"
            ).id

    def student(
        self,
        school_id: uuid.UUID,
        birth: date | None = None,
        name: tuple[str, str] = ("Иванова", "Мария"),
        class_name: str | None = None,
    ) -> uuid.UUID:
        person_id, _ = self.person(birth or years_ago(19), name=name)
        self.enlist(person_id, school_id, class_name)
        return person_id

    def enlist(self, person_id: uuid.UUID, school_id: uuid.UUID, class_name: str | None = None):
        """A student status in the school (in a class when given)."""
        with session_scope(self.sm) as s:
            statuses.grant_status(
                s,
                person_id,
                "student",
                "roster",
                school_id=school_id,
                class_name=class_name,
                actor="test",
            )

    def proctor(self, school_id: uuid.UUID) -> uuid.UUID:
        person_id, _ = self.person(years_ago(40))
        with session_scope(self.sm) as s:
            statuses.grant_status(
                s, person_id, "teacher", "roster", school_id=school_id, actor="test"
            )
            statuses.appoint_proctor(s, school_id, person_id, actor="test")
        return person_id

    # --- enrolment and exams over the API --------------------------------------------------
    def enrol(self, person_id: uuid.UUID, photo: str = "obama/obama_1.jpg") -> None:
        """Enrol from one real photo (the person needs a given biometric consent)."""
        r = enrol_photos(self, person_id, photo)
        assert r.status_code == 201, r.text

    def open_exam(
        self,
        school_id: uuid.UUID,
        proctor_id: uuid.UUID,
        takers: list,
        keep_frames_days: int | None = None,
    ) -> str:
        """An exam session open from a minute ago for an hour, made by the proctor (evidence
        frames kept ``keep_frames_days`` days; the server's default when None)."""
        now = utcnow()
        body = {
            "school_id": str(school_id),
            "course": "Информатика",
            "title": "Итоговый тест",
            "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "closes_at": (now + timedelta(hours=1)).isoformat(),
            "takers": [str(t) for t in takers],
        }
        if keep_frames_days is not None:
            body["keep_frames_days"] = keep_frames_days
        r = self.client.post("/api/v1/exams/sessions", json=body, headers=self.headers(proctor_id))
        assert r.status_code == 201, r.text
        return r.json()["id"]

    def enrolled_taker(self) -> tuple[uuid.UUID, uuid.UUID, str]:
        """A school's proctor, a student with a biometric consent and an enrolment, and an open
        exam the student takes: (proctor, student, exam id)."""
        school = self.school()
        proctor, student = self.proctor(school), self.student(school)
        self.consent(student)
        self.enrol(student)
        return proctor, student, self.open_exam(school, proctor, [student])

    # --- consents (the real ledger) -----------------------------------------------------
    def _operator(self) -> uuid.UUID:
        if self.operator_id is None:
            with session_scope(self.sm) as s:
                catalogue.load_catalogue(s)
                org = parties.register_organization(
                    s,
                    organization_body("operator", name=f"Оператор ЦОС {secrets.token_hex(3)}"),
                    actor="test",
                )
                self.operator_id = org.id
        return self.operator_id

    def _template(self, key: str) -> uuid.UUID:
        if key not in self.templates:
            op = self._operator()
            body = {
                "biometric": {
                    "key": f"biometric.{secrets.token_hex(3)}",
                    "text": BIOMETRIC_TEXT,
                    "purpose": "biometric.identification",
                    "categories": ["biometric.face_template"],
                    "form": "written",
                },
                "result": {
                    "key": f"result.{secrets.token_hex(3)}",
                    "text": RESULT_TEXT,
                    "purpose": "attestation.online",
                    "categories": ["education.grades"],
                    "form": "any",
                },
            }[key]
            body.update(
                # consent.gate.has_active_consent applies the transfer gate's rule, which
                # requires "передача" among the actions (reported to the consent package).
                actions=["сбор", "хранение", "использование", "передача", "уничтожение"],
                processing_methods=["automated"],
                term_days=365,
                withdrawal_method="В личном кабинете",
            )
            with session_scope(self.sm) as s:
                tpl = consent_templates.publish_template(
                    s, get_organization(s, op), body, actor="test"
                )
                self.templates[key] = tpl.id
        return self.templates[key]

    def request_consent(self, subject_id: uuid.UUID, key: str = "biometric") -> uuid.UUID:
        tpl = self._template(key)
        with session_scope(self.sm) as s:
            c = lifecycle.create_request(
                s,
                get_organization(s, self._operator()),
                template_id=tpl,
                subject_id=subject_id,
                categories=None,
                purpose=None,
                supplier_id=None,
                actor="test",
                now=utcnow(),
            )
            return c.id

    def principal(self, person_id: uuid.UUID, auth=None) -> Principal:
        """The person in Propusk's own pages after an ESIA login (``auth``: a fresh one)."""
        return Principal(
            kind="person",
            subject=f"person:{person_id}",
            person_id=person_id,
            roles=(RoleGrant("authenticated", "*"),),
            channel="session",
            auth=auth or esia_auth(),
        )

    def sign(self, consent_id: uuid.UUID, signer: uuid.UUID) -> str:
        """Sign as the signing page does: the document shown, a fresh ESIA login."""
        principal = self.principal(signer)
        with session_scope(self.sm) as s:
            shown = signing.prepare(s, principal, consent_id, utcnow()).document.sha256
            signed, _ = signing.sign(
                s, self.runtime.settings, principal, consent_id, shown, utcnow()
            )
            return signed.state

    def consent(self, subject_id: uuid.UUID, key: str = "biometric", *signers) -> uuid.UUID:
        consent_id = self.request_consent(subject_id, key)
        for signer in signers or (subject_id,):
            self.sign(consent_id, signer)
        return consent_id

    def withdraw(self, consent_id: uuid.UUID, person_id: uuid.UUID) -> None:
        r = self.client.post(
            f"/api/v1/consents/{consent_id}/withdraw", headers=self.headers(person_id)
        )
        assert r.status_code == 200, r.text

    def audit_types(self, person_id: uuid.UUID) -> list[str]:
        with session_scope(self.sm) as s:
            return [e.event_type for e in audit.events_for_subject(s, f"person:{person_id}")]


@contextmanager
def served(database_url: str, **overrides) -> Iterator[tuple[str, Bio]]:
    """A real server (uvicorn) on ``database_url`` (settings ``overrides``) whose callers the
    harness resolves: (its URL, a ``Bio`` talking to it over HTTP)."""
    server, rt = start_live_server(database_url, **overrides)
    http = httpx.Client(base_url=server.url, timeout=60)
    bio = Bio(client=http, runtime=rt)
    server.server.config.app.state.principal_resolver = bio.resolve
    try:
        yield server.url, bio
    finally:
        http.close()
        server.stop()
        rt.dispose()


# --- enrolment over HTTP ------------------------------------------------------------------


def photo_files(*names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", (n.split("/")[-1], photos.raw(n), "image/jpeg")) for n in names]


def enrol_photos(bio: Bio, actor: uuid.UUID, *names: str, subject: uuid.UUID | None = None):
    """POST the named developer-set photos as ``actor`` (for ``subject``, a child)."""
    data = {"subject_id": str(subject)} if subject else None
    return bio.client.post(
        ENROLMENTS, files=photo_files(*names), data=data, headers=bio.headers(actor)
    )


def template_row(bio: Bio, person_id: uuid.UUID) -> dict | None:
    """The person's stored template row as the database holds it (None: no template)."""
    with bio.runtime.engine.connect() as conn:
        row = (
            conn.execute(
                text("SELECT * FROM biometric_template WHERE person_id = :p"),
                {"p": person_id.hex if bio.runtime.engine.dialect.name == "sqlite" else person_id},
            )
            .mappings()
            .first()
        )
    return dict(row) if row else None


# --- exam frames --------------------------------------------------------------------------

FRONTAL = ("obama/obama_480p.jpg", "obama/obama_small.jpg", "obama/obama_720p.jpg")
TURNED = {"turn_left": "obama/obama_4.jpg", "turn_right": "obama/obama_2.jpg"}


class FrameMaker:
    """Distinct frames (bytes and pixels) from real photos: each call shifts brightness a little.

    The synthetic closed-eye frame is sent as lossless PNG: JPEG noise around a warped eyelid
    moves the eye landmarks more than a real blink would.
    """

    def __init__(self) -> None:
        self.counter = itertools.count(1)

    def _shifted(self, img: np.ndarray) -> np.ndarray:
        k = next(self.counter)
        return np.clip(img.astype(np.int16) + (k % 7) - 3, 0, 255).astype(np.uint8)

    def _variant(self, img: np.ndarray) -> bytes:
        return photos.jpeg(self._shifted(img), 85 + next(self.counter) % 10)

    def frontal(self) -> bytes:
        return self._variant(photos.image(FRONTAL[next(self.counter) % len(FRONTAL)]))

    def closed_eyes(self) -> bytes:
        return photos.png(self._shifted(photos.close_eyes(photos.image("obama/obama_480p.jpg"))))

    def performing(self, actions: list[str]) -> list[bytes]:
        frames = [self.frontal()]
        for action in actions:
            if action == "blink":
                base = photos.image("obama/obama_480p.jpg")
                frames += [self._variant(base), self.closed_eyes(), self._variant(base)]
            else:
                frames += [self._variant(photos.image(TURNED[action])), self.frontal()]
        return frames

    def image(self, name: str) -> bytes:
        return self._variant(photos.image(name))


def _upload(name: str, data: bytes) -> tuple[str, tuple[str, bytes, str]]:
    return (name, (f"{name}.jpg", data, "image/jpeg"))


def send_liveness(bio: Bio, exam: str, who, nonce: str, frames: list[bytes]) -> httpx.Response:
    return bio.client.post(
        f"/api/v1/exams/sessions/{exam}/liveness",
        data={"nonce": nonce},
        files=[_upload("frames", f) for f in frames],
        headers=bio.headers(who),
    )


def send_frame(bio: Bio, exam: str, who, data: bytes) -> httpx.Response:
    return bio.client.post(
        f"/api/v1/exams/sessions/{exam}/frames",
        files=[_upload("frame", data)],
        headers=bio.headers(who),
    )


def fail_liveness(bio: Bio, exam: str, who: uuid.UUID, frames: list[bytes]) -> None:
    """Start and send frames that perform no action: a recorded, failed liveness attempt."""
    start = bio.client.post(f"/api/v1/exams/sessions/{exam}/start", headers=bio.headers(who))
    r = send_liveness(bio, exam, who, start.json()["challenge"]["nonce"], frames)
    assert r.status_code == 200 and r.json()["reason"] == "actions_not_performed"
