"""The connector end to end against the live simulator, and every way a login must fail.

start → the simulator's login form (POST ``oid``) → callback → ``finish`` → identity; the
callback host writes with the real ``idp.login.on_login``, so a failed login is checked to
leave no person, status or guardianship row behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from idp.esia import gost
from idp.esia.errors import EsiaError
from idp.esia.keys import SIM_CERT, client_paths
from idp.upstream import UpstreamError
from tests.idp.esia.helpers import (
    PARENT_OID,
    callback_path,
    choose,
    identity_rows,
    make_connector_app,
    upstream_for,
)
from tests.support.settings import make_settings

DIRECTOR_OID = "1000400001"
TEACHER_OID = "1000400003"


pytestmark = pytest.mark.usefixtures("fast_gost")


class Flow:
    """One browser: our app (TestClient, keeps the sealed cookie) and the simulator (httpx)."""

    def __init__(self, app, browser) -> None:
        self.app = TestClient(app, base_url="http://testserver", follow_redirects=False)
        self.browser = browser

    def start(self, txn: str = "txn-1") -> str:
        response = self.app.get("/start", params={"txn": txn})
        assert response.status_code == 302
        return response.headers["location"]

    def at_esia(self, location: str, oid: str = PARENT_OID, deny: bool = False) -> str:
        """Our redirect → ESIA; returns the callback path ESIA sends the browser to."""
        if "/aas/oauth2/v2/ac" in location and "error=" not in location:
            response = self.browser.get(location)
            if response.status_code == 302:  # an error redirect straight from v2/ac
                return callback_path(response.headers["location"])
            location = choose(self.browser, location, oid, deny)
            return callback_path(location.headers["location"])
        return callback_path(location)

    def callback(self, path: str):
        return self.app.get(path)

    def login(self, oid: str = PARENT_OID, **kwargs):
        return self.callback(self.at_esia(self.start(), oid, **kwargs))


@pytest.fixture
def flow(sim, key_dir, browser) -> Iterator:
    def make(runtime=None, **kwargs) -> Flow:
        return Flow(make_connector_app(upstream_for(sim, key_dir, **kwargs), runtime), browser)

    yield make


def test_parent_logs_in_with_children(flow):
    response = flow().login(PARENT_OID)
    assert response.status_code == 200, response.text
    assert response.json() == {"txn": "txn-1", "oid": PARENT_OID}


def test_identity_carries_person_contacts_children_and_roles(flow):
    f = flow()
    seen = f.app.app.state.identities
    assert f.callback(f.at_esia(f.start("t-parent"), PARENT_OID)).status_code == 200
    txn, parent = seen[-1]
    assert txn == "t-parent"
    assert (parent.last_name, parent.first_name, parent.middle_name) == (
        "Волков",
        "Виктор",
        "Андреевич",
    )
    assert parent.birth_date.isoformat() == "1978-11-09" and parent.gender == "M"
    assert parent.email.endswith("@example.ru") and parent.phone.startswith("+7")
    assert parent.snils  # snils scope is in the default scope
    assert parent.trusted and parent.organizations == ()
    (child,) = parent.children
    assert (child.first_name, child.birth_date.isoformat()) == ("Полина", "2009-02-11")
    assert child.snils  # kid_snils granted
    assert parent.raw_claims["urn:esia:sbj_id"] == int(PARENT_OID)

    f.callback(f.at_esia(f.start("t-dir"), DIRECTOR_OID))
    director = seen[-1][1]
    (role,) = director.organizations
    assert role.chief and not role.admin and role.ogrn == "1026901061175"
    assert role.name == "МБОУ СОШ № 17" and role.org_oid == "1000500001"
    assert director.children == ()

    f.callback(f.at_esia(f.start("t-teacher"), TEACHER_OID))
    (teacher_role,) = seen[-1][1].organizations
    assert not teacher_role.chief and not teacher_role.admin


def test_successful_login_writes_the_person_and_guardianship(flow, db):
    before = identity_rows(db)
    response = flow(db).login(PARENT_OID)
    assert response.status_code == 200, response.text
    after = identity_rows(db)
    assert after[0] >= before[0] + (0 if before[0] else 2)  # parent and child (first time)
    assert after[2] >= max(before[2], 1)


def _other_signer():
    key = gost.generate_private_key()
    return gost.GostcryptoSigner(key, gost.make_self_signed_certificate(key, "PROPUSK"))


def _registered_hash(key_dir) -> str:
    _, cert = client_paths(make_settings("sqlite://"), key_dir)
    return gost.load_certificate(cert).hash


NEGATIVE = {
    # case: (expected code, how)
    "bad_signature": "ESIA-007053",
    "wrong_certificate_hash": "ESIA-007002",
    "stale_timestamp": "ESIA-007015",
    "esia_error_redirect": "ESIA-007004",
    "mismatched_state": "esia.state_mismatch",
    "expired_esia_token": "esia.token_expired",
    "untrusted_token_signer": "esia.token_invalid",
}


@pytest.mark.parametrize("case", sorted(NEGATIVE))
def test_failed_logins_raise_upstream_error_and_write_nothing(case, flow, sim, key_dir, db):
    kwargs: dict = {}
    if case == "bad_signature":  # registered certificate's hash, another key signs
        kwargs = {
            "signer": _other_signer(),
            "settings": {"esia_cert_hash": _registered_hash(key_dir)},
        }
    elif case == "wrong_certificate_hash":
        kwargs = {"settings": {"esia_cert_hash": "0A" * 32}}
    elif case == "stale_timestamp":
        kwargs = {"clock": lambda: datetime.now(UTC) - timedelta(minutes=20)}
    elif case == "expired_esia_token":
        sim.config.token_time_offset = -2 * 3600
    elif case == "untrusted_token_signer":
        trusted = key_dir / SIM_CERT  # the connector pins the real simulator certificate …
        kwargs = {"settings": {"esia_trusted_certs": [trusted]}}
        sim.config.signer = _other_signer()  # … and the token comes signed by another key
    before = identity_rows(db)
    f = flow(db, **kwargs)
    path = f.at_esia(f.start("txn-neg"), PARENT_OID, deny=case == "esia_error_redirect")
    if case == "mismatched_state":  # a state no login of this browser is waiting for
        path = path.split("&state=")[0] + "&state=" + str(uuid.uuid4())
    response = f.callback(path)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == NEGATIVE[case]
    assert body["message"]  # a clear (Russian) message for the login page
    if case != "mismatched_state":
        assert body["txn"] == "txn-neg"  # the OIDC layer can answer the right relying party
    assert identity_rows(db) == before


def test_code_reuse_fails_and_writes_nothing_more(flow, db):
    f = flow(db)
    path = f.at_esia(f.start(), PARENT_OID)
    assert f.callback(path).status_code == 200
    after_first = identity_rows(db)
    replay = f.callback(path)
    assert replay.status_code == 400
    assert replay.json()["code"] == "ESIA-007011"
    assert identity_rows(db) == after_first


def test_swapped_state_of_two_pending_logins_fails_pkce(flow):
    f = flow()
    first = f.at_esia(f.start("txn-a"), PARENT_OID)
    second = f.at_esia(f.start("txn-b"), PARENT_OID)
    # the code of the first login presented with the second login's state (and verifier)
    swapped = first.split("&state=")[0] + "&state=" + second.split("&state=")[1]
    response = f.callback(swapped)
    assert response.status_code == 400
    assert response.json()["code"] == "ESIA-007040"


def test_callback_without_pending_login_is_refused(flow, browser):
    f = flow()
    path = f.at_esia(f.start(), PARENT_OID)
    stranger = TestClient(f.app.app, base_url="http://testserver", follow_redirects=False)
    response = stranger.get(path)  # no sealed cookie in this browser
    assert response.status_code == 400
    assert response.json()["code"] == "esia.state_mismatch"


def test_upstream_error_is_the_shared_contract(flow):
    f = flow()
    response = f.login(PARENT_OID, deny=True)
    assert response.json()["code"] == "ESIA-007004"
    assert issubclass(EsiaError, UpstreamError)


def test_openssl_signer_plugs_into_the_connector(flow, key_dir):
    key, cert = client_paths(make_settings("sqlite://"), key_dir)
    response = flow(signer=gost.OpenSSLSigner(key, cert)).login(PARENT_OID)
    assert response.status_code == 200, response.text


def test_login_with_the_reference_gostcrypto_backend(flow):
    # the default: connector and in-process simulator use it
    before = gost.set_backend("gostcrypto")
    try:
        response = flow().login(PARENT_OID)
    finally:
        gost.set_backend(before)
    assert response.status_code == 200, response.text
