"""Enrolment over HTTP: consent gating, quality reasons, encryption at rest, destruction."""

from __future__ import annotations

import io
from datetime import timedelta

import numpy as np
import pytest
from cryptography.exceptions import InvalidTag
from PIL import Image

from biometrics import engine
from consent import lifecycle, signing
from propusk import crypto
from propusk.db import session_scope, utcnow
from propusk.errors import Conflict, Forbidden
from tests.biometrics import photos
from tests.biometrics.harness import (
    ENROLMENTS,
    enrol_photos,
    photo_files,
    template_row,
    years_ago,
)
from tests.support.consent_world import esia_auth, signature


def test_enrolment_needs_an_active_written_biometric_consent(bio, db_url):
    person, _ = bio.person()
    r = enrol_photos(bio, person, "obama/obama_1.jpg")
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"].endswith("/biometric-consent-required")
    status = bio.client.get(f"{ENROLMENTS}/{person}", headers=bio.headers(person)).json()
    assert status["enrolled"] is False and status["biometric_consent_active"] is False
    # A consent that is only requested (not given) does not count either.
    bio.request_consent(person)
    assert enrol_photos(bio, person, "obama/obama_1.jpg").status_code == 403


def test_enrolment_stores_only_an_encrypted_template_bound_to_person_and_consent(bio, db_url):
    person, _ = bio.person()
    consent_id = bio.consent(person)
    r = enrol_photos(bio, person, "obama/obama_1.jpg", "obama/obama_2.jpg")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["enrolled"] is True and body["photos"] == 2
    assert body["consent_id"] == str(consent_id)
    assert not any(k in body for k in ("template", "encoding", "encodings", "template_enc"))
    status = bio.client.get(f"{ENROLMENTS}/{person}", headers=bio.headers(person))
    assert status.status_code == 200 and "template_enc" not in status.text

    row = template_row(bio, person)
    blob = bytes(row["template_enc"])
    encodings = [
        engine.analyze(photos.image(n), config=engine.SWEEP_CONFIG).faces[0].encoding
        for n in ("obama/obama_1.jpg", "obama/obama_2.jpg")
    ]
    plain = engine.pack_encodings(encodings)
    assert plain not in blob and plain[1:65] not in blob  # no float vector in the row
    for value in row.values():  # nor in any other column
        if isinstance(value, bytes | bytearray | memoryview):
            assert np.asarray(encodings[0], "<f4").tobytes()[:32] not in bytes(value)
    kek = bio.runtime.settings.kek_bytes
    aad = f"biometric-template:{person}:{consent_id}".encode()
    assert crypto.decrypt(kek, blob, aad) == crypto.decrypt(kek, blob, aad)
    assert engine.unpack_encodings(crypto.decrypt(kek, blob, aad))[0].shape == (128,)
    other, _ = bio.person()
    with pytest.raises(InvalidTag):  # bound to the person: a copied blob does not decrypt
        crypto.decrypt(kek, blob, f"biometric-template:{other}:{consent_id}".encode())
    assert "biometric.enrolled" in bio.audit_types(person)


def test_withdrawing_the_consent_destroys_the_template_in_the_same_transaction(bio, db_url):
    person, _ = bio.person()
    consent_id = bio.consent(person)
    assert enrol_photos(bio, person, "obama/obama_480p.jpg").status_code == 201

    class Boom(Exception):
        pass

    with pytest.raises(Boom), session_scope(bio.sm) as s:  # a withdrawal that fails later
        lifecycle.withdraw(s, consent_id, person, now=utcnow())
        raise Boom
    assert template_row(bio, person) is not None  # rolled back together: template still there

    bio.withdraw(consent_id, person)
    assert template_row(bio, person) is None
    status = bio.client.get(f"{ENROLMENTS}/{person}", headers=bio.headers(person)).json()
    assert status["enrolled"] is False and status["biometric_consent_active"] is False
    assert "biometric.template_destroyed" in bio.audit_types(person)
    assert enrol_photos(bio, person, "obama/obama_480p.jpg").status_code == 403


def test_delete_enrolment_on_request(bio, db_url):
    person, _ = bio.person()
    bio.consent(person)
    assert enrol_photos(bio, person, "biden/biden_1.jpg").status_code == 201
    stranger, _ = bio.person()
    r = bio.client.delete(f"{ENROLMENTS}/{person}", headers=bio.headers(stranger))
    assert r.status_code == 403
    r = bio.client.delete(f"{ENROLMENTS}/{person}", headers=bio.headers(person))
    assert r.status_code == 200 and r.json()["destroyed"] is True
    assert template_row(bio, person) is None


def test_parent_enrols_a_child_under_14_and_strangers_cannot(bio, db_url):
    parent, (child,) = bio.person(years_ago(40), children=(years_ago(10),))
    stranger, _ = bio.person()
    bio.consent(child, "biometric", parent)  # under 14: the legal representative signs
    assert enrol_photos(bio, stranger, "obama/obama_1.jpg", subject=child).status_code == 403
    r = enrol_photos(bio, parent, "obama/obama_1.jpg", subject=child)
    assert r.status_code == 201, r.text
    assert r.json()["person_id"] == str(child)


def test_a_former_representative_cannot_enrol_or_delete_an_adults_face(bio, db_url):
    parent, (grown,) = bio.person(years_ago(50), children=(years_ago(19),))
    bio.consent(grown, "biometric", grown)  # an adult signs alone
    r = enrol_photos(bio, parent, "obama/obama_1.jpg", subject=grown)
    assert r.status_code == 403 and r.json()["type"].endswith("/representation-ended")
    assert enrol_photos(bio, grown, "obama/obama_1.jpg").status_code == 201
    r = bio.client.delete(f"{ENROLMENTS}/{grown}", headers=bio.headers(parent))
    assert r.status_code == 403
    assert template_row(bio, grown) is not None


def test_a_14_to_17_year_old_needs_both_signatures(bio, db_url):
    parent, (teen,) = bio.person(years_ago(45), children=(years_ago(15),))
    consent_id = bio.request_consent(teen)
    assert bio.sign(consent_id, teen) == "partially_given"
    assert enrol_photos(bio, teen, "obama/obama_1.jpg").status_code == 403
    assert bio.sign(consent_id, parent) == "given"
    assert enrol_photos(bio, teen, "obama/obama_1.jpg").status_code == 201


def test_photos_are_rejected_with_clear_reasons_and_nothing_is_written(bio, db_url):
    person, _ = bio.person()
    bio.consent(person)
    r = enrol_photos(bio, person, "multi/two_people.jpg")
    assert r.status_code == 422
    assert r.json()["photos"] == [
        {"photo": 0, "reasons": ["several_faces"], "detail": ["more than one face in the photo"]}
    ]
    r = bio.client.post(
        ENROLMENTS,
        files=[("photos", ("cv.pdf", b"%PDF-1.7 not a photo", "application/pdf"))],
        headers=bio.headers(person),
    )
    assert r.status_code == 422 and r.json()["photos"][0]["reasons"] == ["not_an_image"]
    r = enrol_photos(bio, person, "obama/obama_1.jpg", "biden/biden_1.jpg")
    assert r.status_code == 422 and r.json()["type"].endswith("/photos-differ")
    r = enrol_photos(bio, person, *["obama/obama_1.jpg"] * 4)
    assert r.status_code == 422
    big = io.BytesIO()
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (2200, 2200, 3), np.uint8)).save(
        big, format="PNG"
    )
    assert len(big.getvalue()) > engine.DEFAULT_CONFIG.max_bytes
    r = bio.client.post(
        ENROLMENTS,
        files=[("photos", ("big.png", big.getvalue(), "image/png"))],
        headers=bio.headers(person),
    )
    assert r.status_code == 413
    dark = (photos.image("obama/obama_1.jpg") * 0.2).astype(np.uint8)
    r = bio.client.post(
        ENROLMENTS,
        files=[("photos", ("dark.jpg", photos.jpeg(dark), "image/jpeg"))],
        headers=bio.headers(person),
    )
    assert r.status_code == 422 and r.json()["photos"][0]["reasons"] == ["too_dark"]
    assert template_row(bio, person) is None
    # The 32-bit PNG enrols (alpha composited); the partial face too.
    assert (
        enrol_photos(bio, person, "edge/32bit.png", "edge/obama_partial_face_1.jpg").status_code
        == 201
    )


def test_oversized_requests_are_refused_before_parsing(bio, db_url):
    person, _ = bio.person()
    r = bio.client.post(
        ENROLMENTS,
        content=b"x" * 64,
        headers={
            **bio.headers(person),
            "content-type": "multipart/form-data; boundary=zzz",
            "content-length": str(64 * 1024 * 1024),
        },
    )
    assert r.status_code == 413
    assert r.json()["type"].endswith("/body-too-large")
    assert bio.client.post(ENROLMENTS, files=photo_files("obama/obama_1.jpg")).status_code == 401


def test_a_written_consent_is_signed_only_as_a_document_after_a_fresh_confirmed_login(bio, db_url):
    """Art. 11 written form: no document, an old login or an unconfirmed ESIA account → not
    signed at all (and enrolment still refused)."""
    person, _ = bio.person()
    consent_id = bio.request_consent(person)
    with pytest.raises(Conflict) as no_doc, session_scope(bio.sm) as s:
        lifecycle.approve(s, consent_id, person, now=utcnow(), signature=signature())
    assert no_doc.value.type == "document-required"
    for auth, refusal in (
        (esia_auth(auth_time=utcnow() - timedelta(hours=2)), "step-up-required"),
        (esia_auth(confirmed=False), "confirmed-account-required"),
    ):
        principal = bio.principal(person, auth)
        with pytest.raises(Forbidden) as refused, session_scope(bio.sm) as s:
            shown = signing.prepare(s, principal, consent_id, utcnow()).document.sha256
            signing.sign(s, bio.runtime.settings, principal, consent_id, shown, utcnow())
        assert refused.value.type == refusal
    r = enrol_photos(bio, person, "obama/obama_small.jpg")
    assert r.status_code == 403 and r.json()["type"].endswith("/biometric-consent-required")
