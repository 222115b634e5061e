"""End to end: the certified RP library openid-client (node) against a real uvicorn server,
and python-jose as an independent verifier of the ID and access tokens it received."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from jose import jwt as jose_jwt
from joserfc.jwk import ECKey

from idp.oidc import clients as idp_oidc_clients
from propusk.db import session_scope
from tests.support.servers import start_live_server

NODE_DIR = Path(__file__).parent / "node"
REDIRECT = "https://rp.example/cb"
LOGOUT_TO = "https://rp.example/"


@pytest.fixture
def dev_server(db_url):
    server, rt = start_live_server(db_url, upstream="dev")
    yield server, rt
    server.stop()
    rt.dispose()


def _node_ready() -> None:
    if not shutil.which("node"):
        pytest.fail("node is required for the RP end-to-end test")
    if not (NODE_DIR / "node_modules" / "openid-client").exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            check=True,
            capture_output=True,
        )


def _clients(rt) -> dict:
    key = ECKey.generate_key("P-256", private=True)
    with session_scope(rt.sessionmaker) as s:
        rp, rp_secret = idp_oidc_clients.create_client(
            s,
            name="node-rp",
            grant_types=["authorization_code", "refresh_token"],
            redirect_uris=[REDIRECT],
            post_logout_redirect_uris=[LOGOUT_TO],
        )
        cc, cc_secret = idp_oidc_clients.create_client(
            s,
            name="node-cc",
            grant_types=["client_credentials"],
            scopes=["consent.read"],
        )
        pk, _ = idp_oidc_clients.create_client(
            s,
            name="node-pkjwt",
            grant_types=["client_credentials"],
            auth_method="private_key_jwt",
            jwks={"keys": [dict(key.as_dict(private=False), alg="ES256")]},
        )
        return {
            "rp": {
                "name": "node-rp",
                "client_id": rp.client_id,
                "client_secret": rp_secret,
                "redirect_uri": REDIRECT,
                "post_logout_redirect_uri": LOGOUT_TO,
            },
            "cc": {"client_id": cc.client_id, "client_secret": cc_secret},
            "operator": _operator(s),
            "pkjwt": {"client_id": pk.client_id, "jwk": dict(key.as_dict(private=True))},
        }


SIGNED_BACK = "https://operator.example/consent-done"


def _operator(s) -> dict:
    """An operator (registered organisation, a published template) whose client may send
    people to the signing page and get them back at ``SIGNED_BACK``."""
    from consent import catalogue, parties, templates
    from tests.support.consent_world import org_fields, template_fields

    catalogue.load_catalogue(s)
    row, secret = idp_oidc_clients.create_client(
        s, name="node-operator", grant_types=["client_credentials"], return_uris=[SIGNED_BACK]
    )
    org = parties.register_organization(
        s, org_fields(name="ООО Оператор", client_id=row.client_id), actor="test"
    )
    template = templates.publish_template(s, org, template_fields(), actor="test")
    return {
        "client_id": row.client_id,
        "client_secret": secret,
        "template_id": str(template.id),
        "return_uri": SIGNED_BACK,
    }


def test_openid_client_against_live_server(dev_server):
    _node_ready()
    server, rt = dev_server
    clients = _clients(rt)
    config = dict(clients, issuer=server.url, oid=str(uuid.uuid4().int)[:12])
    proc = subprocess.run(
        ["node", "rp_flow.mjs"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, RP_CONFIG=json.dumps(config)),
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)

    callback = parse_qs(urlsplit(out["callback"]).query)
    assert callback["iss"] == [server.url]
    assert out["nonce_ok"] is True
    assert out["userinfo"]["sub"] == out["sub"] and out["userinfo"]["family_name"] == "Кузнецов"
    assert out["refresh_rotated"] is True
    assert out["logout_status"] == 302 and out["logout_location"] == LOGOUT_TO + "?state=bye"
    assert out["cc_scope"] == "consent.read"
    # the consent screen named the RP; its token could not sign; the signing page did
    assert out["consent_screen_names_client"] is True
    assert out["rp_approve_status"] == 403 and out["rp_approve_type"].endswith("/not-delegable")
    assert out["sign_status"] == 303
    back = parse_qs(urlsplit(out["sign_location"]).query)
    assert out["sign_location"].startswith(SIGNED_BACK + "?")
    assert back == {"consent_id": [out["consent_id"]], "result": ["given"], "state": ["sig-1"]}
    assert out["consent_state"] == "given"

    # python-jose, independently, with the published JWKS
    jwks = httpx.get(server.url + "/jwks.json").json()

    def verify(token: str, audience: str, **kw) -> dict:
        kid = jose_jwt.get_unverified_header(token)["kid"]
        key = next(k for k in jwks["keys"] if k["kid"] == kid)
        return jose_jwt.decode(
            token, key, algorithms=["ES256"], audience=audience, issuer=server.url, **kw
        )

    rp_id = clients["rp"]["client_id"]
    id_claims = verify(out["id_token"], rp_id, access_token=out["access_token"])
    assert id_claims["sub"] == out["sub"]
    for name in ("access_token", "refreshed_access_token"):
        assert verify(out[name], server.url)["sub"] == out["sub"]
    cc = verify(out["cc_access_token"], server.url)
    assert cc["sub"] == cc["client_id"] == clients["cc"]["client_id"]
    pk = verify(out["pkjwt_access_token"], server.url)
    assert pk["client_id"] == clients["pkjwt"]["client_id"]
    with pytest.raises(jose_jwt.JWTClaimsError, match="audience"):
        verify(out["access_token"], "https://someone-else.example")
