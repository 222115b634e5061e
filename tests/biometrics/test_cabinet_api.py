"""The cabinet's biometrics and exams sections over HTTP: ``/me/biometrics``, ``/me/exams`` and
enrolment/deletion the way the cabinet's script calls them.

Refusals first: another person, a former guardian, a parent of an adult child, a relying party's
token without the scope. Then what each caller sees: the taker (with the exam page link while
the window is open), their representative (no link), the consent's requests and who signs them.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import Request

from biometrics import engine, exams, quality
from idp import identity, login, statuses
from idp.upstream import UpstreamIdentity
from propusk.db import session_scope, utcnow
from propusk.messages import codes, problems
from propusk.security import Principal, RoleGrant
from tests.biometrics.harness import ENROLMENTS, enrol_photos, template_row, years_ago

BIOMETRICS = "/api/v1/me/biometrics"
EXAMS = "/api/v1/me/exams"
CABINET_JS = Path(__file__).resolve().parents[2] / "biometrics" / "static" / "cabinet.js"
SAME_PERSON = ("obama/obama_1.jpg", "obama/obama_480p.jpg", "obama/obama_720p.jpg")


def _get(bio, path: str, who: uuid.UUID, subject: uuid.UUID | None = None):
    params = {"subject": str(subject)} if subject else None
    return bio.client.get(path, params=params, headers=bio.headers(who))


def _problem(response, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith(f"/{kind}"), response.text


def _school_child(bio, age: int) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID, uuid.UUID]:
    """(school, proctor, parent, child): the child a student of the school, ``age`` years old."""
    school = bio.school()
    proctor = bio.proctor(school)
    parent, (child,) = bio.person(years_ago(45), children=(years_ago(age),))
    with session_scope(bio.sm) as s:
        statuses.grant_status(s, child, "student", "roster", school_id=school, actor="test")
    return school, proctor, parent, child


def _forget_children(bio, parent: uuid.UUID) -> None:
    """The parent logs in again and ESIA no longer lists the child: the guardianship ends."""
    with session_scope(bio.sm) as s:
        person = identity.get_person(s, parent)
        login.on_login(
            s,
            UpstreamIdentity(
                esia_oid=person.esia_oid,
                last_name=person.last_name,
                first_name=person.first_name,
                birth_date=person.birth_date,
                trusted=True,
                children=(),
            ),
            settings=bio.runtime.settings,
        )


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [BIOMETRICS, EXAMS])
def test_another_person_cannot_read_someones_biometrics_or_exams(bio, db_url, path):
    _, _, _, child = _school_child(bio, 15)
    stranger, _ = bio.person()
    _problem(_get(bio, path, stranger, child), 403, "not-representative")
    _problem(_get(bio, path, stranger, uuid.uuid4()), 404, "unknown-subject")
    assert bio.client.get(path).status_code == 401


@pytest.mark.parametrize("path", [BIOMETRICS, EXAMS])
def test_a_former_guardian_reads_nothing_of_the_child(bio, db_url, path):
    _, _, parent, child = _school_child(bio, 15)
    assert _get(bio, path, parent, child).status_code == 200  # while they represent the child
    _forget_children(bio, parent)
    _problem(_get(bio, path, parent, child), 403, "not-representative")


@pytest.mark.parametrize("path", [BIOMETRICS, EXAMS])
def test_a_parent_of_an_adult_child_reads_nothing(bio, db_url, path):
    parent, (grown,) = bio.person(years_ago(50), children=(years_ago(19),))
    _problem(_get(bio, path, parent, grown), 403, "representation-ended")
    assert _get(bio, path, grown).status_code == 200


def _token_resolver(bio, scopes: set[str]):
    """Resolve the harness's callers as a relying party holding their token with ``scopes``."""

    def resolve(request: Request, session) -> Principal:
        person = bio.resolve(request, session)
        if person.person_id is None:
            return person
        return Principal(
            kind="person",
            subject=person.subject,
            person_id=person.person_id,
            client_id="e-diary",
            scopes=frozenset(scopes),
            roles=(RoleGrant("authenticated", "*"),),
            channel="token",
        )

    return resolve


def test_a_relying_partys_token_is_held_to_its_scopes(bio, app, db_url):
    person, _ = bio.person()
    bio.consent(person)
    app.state.principal_resolver = _token_resolver(bio, {"openid", "profile", "biometrics.enrol"})
    _problem(_get(bio, EXAMS, person), 403, "not-delegable")  # no scope opens the exam list
    _problem(_get(bio, BIOMETRICS, person), 403, "insufficient-scope")  # consents.read missing
    app.state.principal_resolver = _token_resolver(bio, {"openid", "consents.read"})
    _problem(_get(bio, BIOMETRICS, person), 403, "insufficient-scope")  # biometrics.enrol missing
    scopes = {"openid", "consents.read", "biometrics.enrol"}
    app.state.principal_resolver = _token_resolver(bio, scopes)
    r = _get(bio, BIOMETRICS, person)
    assert r.status_code == 200 and r.json()["consent_active"] is True
    r = bio.client.delete(f"{ENROLMENTS}/{person}", headers=bio.headers(person))
    _problem(r, 403, "not-delegable")  # destroying the template is the person's own act


# --- the exams section --------------------------------------------------------------------


def test_the_taker_sees_their_exams_and_the_link_only_while_the_window_is_open(bio, db_url):
    school, proctor, parent, child = _school_child(bio, 15)
    other_school = bio.school()
    now = utcnow()
    with session_scope(bio.sm) as s:  # a past exam: made with its own "now", as it was then
        past = exams.create_exam_session(
            s,
            proctor_id=proctor,
            school_id=school,
            course="Физика",
            title="Контрольная за I четверть",
            opens_at=now - timedelta(days=30, hours=1),
            closes_at=now - timedelta(days=30),
            takers=[child],
            keep_frames_days=0,
            now=now - timedelta(days=30, hours=2),
        ).id
        upcoming = exams.create_exam_session(
            s,
            proctor_id=proctor,
            school_id=school,
            course="Химия",
            title="Зачёт",
            opens_at=now + timedelta(days=2),
            closes_at=now + timedelta(days=2, hours=2),
            takers=[child],
            keep_frames_days=0,
            now=now,
        ).id
    current = bio.open_exam(school, proctor, [child])
    classmate = bio.student(school)
    bio.open_exam(school, proctor, [classmate])  # not the child's: never listed
    assert bio.proctor(other_school)

    r = _get(bio, EXAMS, child)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["own"] is True and body["subject_id"] == str(child)
    listed = {e["id"]: e for e in body["exams"]}
    assert set(listed) == {str(past), str(upcoming), current}
    assert [e["id"] for e in body["exams"]] == [str(upcoming), current, str(past)]  # newest first
    assert listed[current]["window"] == "open"
    assert listed[current]["take_url"] == f"/exams/{current}/take"
    assert listed[current]["state"] == "not_started"
    assert listed[current]["course"] == "Информатика" and listed[current]["school_name"]
    assert listed[str(past)]["window"] == "closed" and listed[str(past)]["take_url"] is None
    assert listed[str(upcoming)]["window"] == "upcoming"
    assert listed[str(upcoming)]["take_url"] is None

    # The child starts (no biometric consent: the document check) and the proctor decides.
    start = bio.client.post(f"/api/v1/exams/sessions/{current}/start", headers=bio.headers(child))
    assert start.status_code == 200 and start.json()["path"] == "manual", start.text
    entry = {e["id"]: e for e in _get(bio, EXAMS, child).json()["exams"]}[current]
    assert entry["state"] == "started" and entry["path"] == "manual" and entry["started_at"]
    decided = bio.client.post(
        f"/api/v1/exams/sessions/{current}/takers/{child}/decision",
        json={
            "decision": "verified",
            "note": "свидетельство о рождении сверено с лицом",
            "identity_document": {"type": "birth_certificate", "number_last4": "1234"},
        },
        headers=bio.headers(proctor),
    )
    assert decided.status_code == 200, decided.text

    # The parent reads the child's exams, with the decision, but takes none of them.
    r = _get(bio, EXAMS, parent, child)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["own"] is False
    entry = {e["id"]: e for e in body["exams"]}[current]
    assert entry["state"] == "verified" and entry["decided_at"]
    assert all(e["take_url"] is None for e in body["exams"])
    # The parent's own list (they take no exam) is empty, not an error.
    assert _get(bio, EXAMS, parent).json()["exams"] == []


# --- the biometrics section ---------------------------------------------------------------


def test_an_adult_without_consent_then_with_a_pending_request_then_enrolled(bio, db_url):
    person, _ = bio.person()
    body = _get(bio, BIOMETRICS, person).json()
    assert body["own"] is True and body["age_group"] == "adult"
    assert body["consent_active"] is False and body["consents"] == []
    assert body["may_enrol"] is True and body["may_delete"] is True
    assert body["enrolment"]["enrolled"] is False

    consent_id = bio.request_consent(person)
    (pending,) = _get(bio, BIOMETRICS, person).json()["consents"]
    assert pending["id"] == str(consent_id) and pending["state"] == "requested"
    assert pending["may_sign"] is True and pending["sign_url"] == f"/sign/{consent_id}"
    assert pending["required_roles"] == ["subject"] and pending["signed_roles"] == []
    assert pending["operator_name"].startswith("Оператор ЦОС")
    assert pending["request_expires_at"]

    assert bio.sign(consent_id, person) == "given"
    body = _get(bio, BIOMETRICS, person).json()
    (given,) = body["consents"]
    assert body["consent_active"] is True and given["active"] is True
    assert given["state"] == "given" and given["sign_url"] is None and given["valid_until"]

    # The cabinet's path: three camera shots of one person, then the section re-read.
    r = enrol_photos(bio, person, *SAME_PERSON)
    assert r.status_code == 201, r.text
    enrolled = _get(bio, BIOMETRICS, person).json()["enrolment"]
    assert enrolled["enrolled"] is True and enrolled["photos"] == 3
    assert enrolled["engine"] == engine.ENGINE_VERSION and enrolled["enrolled_at"]
    assert enrolled["consent_id"] == str(consent_id)

    r = bio.client.delete(f"{ENROLMENTS}/{person}", headers=bio.headers(person))
    assert r.status_code == 200 and r.json()["destroyed"] is True
    assert template_row(bio, person) is None
    after = _get(bio, BIOMETRICS, person).json()
    assert after["enrolment"]["enrolled"] is False and after["consent_active"] is True

    bio.withdraw(consent_id, person)
    body = _get(bio, BIOMETRICS, person).json()
    assert body["consent_active"] is False
    assert body["consents"][0]["state"] == "withdrawn" and body["consents"][0]["ended_at"]


def test_a_14_to_17_year_old_and_their_parent_each_sign_then_either_enrols(bio, db_url):
    _, _, parent, teen = _school_child(bio, 15)
    consent_id = bio.request_consent(teen)
    for who, subject in ((teen, None), (parent, teen)):
        (c,) = _get(bio, BIOMETRICS, who, subject).json()["consents"]
        assert c["may_sign"] is True and c["required_roles"] == ["guardian", "subject"]
    assert bio.sign(consent_id, teen) == "partially_given"
    (c,) = _get(bio, BIOMETRICS, teen).json()["consents"]
    assert c["state"] == "partially_given" and c["signed_roles"] == ["subject"]
    assert c["may_sign"] is False and c["sign_url"] is None  # the parent's turn now
    body = _get(bio, BIOMETRICS, parent, teen).json()
    assert body["own"] is False and body["acting_as"] == "guardian"
    assert body["consents"][0]["sign_url"] == f"/sign/{consent_id}"
    assert body["may_enrol"] is True

    assert bio.sign(consent_id, parent) == "given"
    r = enrol_photos(bio, parent, *SAME_PERSON[:2], subject=teen)  # as the cabinet sends it
    assert r.status_code == 201 and r.json()["person_id"] == str(teen), r.text
    assert _get(bio, BIOMETRICS, teen).json()["enrolment"]["photos"] == 2
    r = bio.client.delete(f"{ENROLMENTS}/{teen}", headers=bio.headers(teen))
    assert r.status_code == 200 and r.json()["destroyed"] is True  # 14–17: their own act too


def test_a_child_under_14_sees_the_section_but_the_parent_acts(bio, db_url):
    _, _, parent, child = _school_child(bio, 10)
    consent_id = bio.request_consent(child)
    body = _get(bio, BIOMETRICS, child).json()
    assert body["age_group"] == "under14"
    assert body["may_enrol"] is False and body["may_delete"] is False
    assert body["consents"][0]["may_sign"] is False
    body = _get(bio, BIOMETRICS, parent, child).json()
    assert body["may_enrol"] is True and body["consents"][0]["required_roles"] == ["guardian"]
    assert body["consents"][0]["sign_url"] == f"/sign/{consent_id}"
    bio.sign(consent_id, parent)
    r = enrol_photos(bio, child, SAME_PERSON[0])
    _problem(r, 403, "representative-required")
    assert enrol_photos(bio, parent, SAME_PERSON[0], subject=child).status_code == 201
    r = bio.client.delete(f"{ENROLMENTS}/{child}", headers=bio.headers(child))
    _problem(r, 403, "representative-required")
    assert template_row(bio, child) is not None


def test_every_reason_code_of_the_enrolment_has_a_russian_text_in_the_catalogue():
    """The cabinet's script names the codes the enrolment answers with through the one catalogue
    (``propuskCheckText``, ``propuskProblemText``): every quality and image code and problem type
    has a text there, and the script keeps no map of its own."""
    image_codes = {"empty", "unsupported_format", "not_an_image", "too_large", "too_many_pixels"}
    assert set(quality.REASONS) | image_codes <= set(codes.CHECKS)
    for kind in ("photo-quality", "photos-differ", "photo-count", "image-too-large"):
        assert kind in problems.PROBLEMS, kind
    text = CABINET_JS.read_text(encoding="utf-8")
    assert "propuskCheckText" in text and "propuskProblemText" in text
    assert not re.search(r"\bno_face\s*:|too_dark\s*:|\"photo-quality\"\s*:", text)
