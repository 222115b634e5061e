"""``refused_client_tokens``: a cached client-token verification is checked against the current
rows in the transaction that relies on it — each token against what *it* was verified as."""

from __future__ import annotations

import secrets
import uuid

from idp.oidc import repository as repo
from idp.oidc import token_store
from idp.oidc.token_store import CLIENT_CHANGED, CLIENT_GONE, TOKEN_REVOKED, ClientToken
from propusk.db import session_scope, utcnow
from tests.idp.oidc.helpers import org_client


def _client(runtime, org: uuid.UUID) -> str:
    with session_scope(runtime.sessionmaker) as s:
        return org_client(s, org, prefix="standing")[0].client_id


def _refused(runtime, tokens: list[ClientToken]) -> dict[ClientToken, str]:
    with session_scope(runtime.sessionmaker) as s:
        return token_store.refused_client_tokens(s, tokens)


def test_a_current_token_passes(runtime):
    org = uuid.uuid4()
    cid = _client(runtime, org)
    assert _refused(runtime, [ClientToken(secrets.token_urlsafe(16), cid, "operator", org)]) == {}


def test_one_jti_verified_before_and_after_a_rebinding_is_judged_per_token(runtime):
    """The same token can sit in one batch twice: once from a verification made before its
    client was bound elsewhere, once after. Only the stale one is refused, in either order."""
    old, new = uuid.uuid4(), uuid.uuid4()
    cid = _client(runtime, old)
    jti = secrets.token_urlsafe(16)
    stale, fresh = ClientToken(jti, cid, "operator", old), ClientToken(jti, cid, "operator", new)
    with session_scope(runtime.sessionmaker) as s:
        repo.get_client(s, cid).organization_id = new
    assert _refused(runtime, [stale, fresh]) == {stale: CLIENT_CHANGED}
    assert _refused(runtime, [fresh, stale]) == {stale: CLIENT_CHANGED}
    assert _refused(runtime, [fresh, fresh]) == {}


def test_revoked_and_deleted(runtime):
    org = uuid.uuid4()
    cid, other = _client(runtime, org), _client(runtime, org)
    revoked = ClientToken(secrets.token_urlsafe(16), cid, "operator", org)
    gone = ClientToken(secrets.token_urlsafe(16), other, "operator", org)
    with session_scope(runtime.sessionmaker) as s:
        token_store.deny_jti(s, revoked.jti, utcnow())
        assert repo.delete_client(s, other)
    assert _refused(runtime, [revoked, gone]) == {revoked: TOKEN_REVOKED, gone: CLIENT_GONE}
    role_changed = ClientToken(secrets.token_urlsafe(16), cid, "supplier", org)
    assert _refused(runtime, [role_changed]) == {role_changed: CLIENT_CHANGED}
