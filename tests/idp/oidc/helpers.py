"""Helpers for OIDC tests: clients, PKCE, driving the dev login form over HTTP, verifying a
JWS as a relying party does."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc.jwk import ECKey

from idp.oidc import clients
from propusk.db import session_scope
from tests import browsing

REDIRECT = "https://rp.example/cb"
LOGOUT_TO = "https://rp.example/bye"


def make_client(runtime, **kwargs) -> tuple[str, str | None]:
    """A client created through the service, committed; returns (client_id, secret)."""
    values = {
        "name": "test-rp",
        "grant_types": ["authorization_code", "refresh_token"],
        "redirect_uris": [REDIRECT],
        "post_logout_redirect_uris": [LOGOUT_TO],
    }
    values.update(kwargs)
    with session_scope(runtime.sessionmaker) as session:
        row, secret = clients.create_client(session, **values)
        return row.client_id, secret


def assertion_client(runtime) -> tuple[str, ECKey]:
    """A private_key_jwt client (client_credentials, role operator) with one ES256 key ``k1``:
    (client_id, its private key, to sign assertions with)."""
    key = ECKey.generate_key("P-256", private=True)
    jwks = {"keys": [dict(key.as_dict(private=False), kid="k1", alg="ES256")]}
    client_id, secret = make_client(
        runtime,
        grant_types=["client_credentials"],
        redirect_uris=[],
        post_logout_redirect_uris=[],
        auth_method="private_key_jwt",
        jwks=jwks,
        scopes=["consent.read"],
        role="operator",
    )
    assert secret is None
    return client_id, key


def org_client(session, org_id, role: str = "operator", prefix: str = "client"):
    """A client_credentials client bound to an organisation: (row, secret)."""
    return clients.create_client(
        session,
        name=f"{prefix}-{uuid.uuid4().hex[:6]}",
        grant_types=["client_credentials"],
        role=role,
        organization_id=org_id,
    )


def verify_with_jwks(token: str, jwks: dict, algorithms: list[str]) -> bytes:
    """Verify a compact JWS as a relying party does: the JWKS key named by the header's ``kid``
    (python-jose given a whole JWKS tries its keys in order and stops at the first of another
    key type, so it fails as soon as a rotated key set is published)."""
    from jose import jws

    kid = jws.get_unverified_header(token)["kid"]
    keys = [k for k in jwks["keys"] if k.get("kid") == kid]
    assert len(keys) == 1, f"kid {kid} not published exactly once"
    return jws.verify(token, keys[0], algorithms=algorithms)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize_params(client_id: str, challenge: str | None, **extra) -> dict:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid profile email",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
    }
    if challenge:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}


def new_oid() -> str:
    return str(uuid.uuid4().int)[:12]


CONSENT_FORM = 'action="/oauth2/authorize/decision"'
SCREEN = "/oauth2/authorize/consent?"


def answer_consent_screen(http, page, decision: str = "allow", origin: str | None = None):
    """Submit the consent screen shown in ``page`` (as the browser would: same origin, the
    page's CSRF token); returns the response."""
    assert CONSENT_FORM in page.text, page.text
    txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    base = str(http.base_url).rstrip("/")
    return http.post(
        "/oauth2/authorize/decision",
        data={"txn": txn, "csrf_token": token, "decision": decision},
        headers={"Origin": origin or base},
        follow_redirects=False,
    )


def login_via_dev_form(http, authorize_url: str, oid: str | None = None, consent: str = "allow"):
    """GET the authorization URL, submit the dev login form and, when the consent screen
    comes, answer it with ``consent`` (``None``: return the screen); returns the response."""
    page = http.get(authorize_url, follow_redirects=False)
    if page.status_code == 303 and page.headers["location"].startswith(SCREEN):
        page = http.get(page.headers["location"], follow_redirects=False)
    if page.status_code == 200 and CONSENT_FORM not in page.text:  # the login form
        txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
        page = http.post(
            "/login/dev/callback",
            data={
                "txn": txn,
                "oid": oid or new_oid(),
                "last_name": "Петрова",
                "first_name": "Ольга",
                "birth_date": "1990-01-02",
                "email": "olga@example.org",
            },
            follow_redirects=False,
        )
    if page.status_code == 303 and page.headers["location"].startswith(SCREEN):
        page = http.get(page.headers["location"], follow_redirects=False)
    if page.status_code == 200 and CONSENT_FORM in page.text and consent is not None:
        return answer_consent_screen(http, page, consent)
    return page


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def code_flow(http, client_id: str, **extra) -> tuple[dict, str, dict]:
    """Run authorize + dev login; returns (callback query, verifier, params)."""
    verifier, challenge = pkce()
    params = authorize_params(client_id, challenge, **extra)
    r = login_via_dev_form(http, "/oauth2/authorize?" + urlencode(params))
    assert r.status_code == 302, r.text
    assert r.headers["location"].startswith(REDIRECT + "?")
    return query_of(r.headers["location"]), verifier, params


def exchange(http, client_id, secret, code, verifier, **extra):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    data.update(extra)
    data = {k: v for k, v in data.items() if v is not None}
    auth = (client_id, secret) if secret else None
    if not secret:
        data["client_id"] = client_id
    return http.post("/oauth2/token", data=data, auth=auth)


def first_party(http) -> dict[str, str]:
    """The headers Propusk's own pages send with a state change: same origin and the login
    session's CSRF token (``GET /api/v1/session``). Also set on ``http`` for later calls."""
    base = str(http.base_url).rstrip("/")
    r = http.get("/api/v1/session")
    assert r.status_code == 200, r.text
    headers = {"Origin": base, "X-CSRF-Token": r.json()["csrf_token"]}
    http.headers.update(headers)
    return headers


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page's form (the browser submits them as they are)."""
    return browsing.hidden_fields(html)
