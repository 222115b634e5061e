"""The authorization code grant: PKCE (S256, required), single-use codes, OpenID Connect.

A code is stored by hash with everything the ID token needs later (``auth_time``, ``amr``,
``acr``, the login session); presenting it twice revokes every token of the first exchange, and
a code is refused once the person revoked the application (``appgrants``). ID tokens are signed
with the service key of the client's ``id_token_alg`` and carry ``idp.claims.claims_for``.
"""

from __future__ import annotations

from datetime import timedelta

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc6749 import grants as oauth_grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode

from idp.claims import claims_for
from idp.identity import get_person
from idp.oidc import appgrants
from idp.oidc import repository as repo
from idp.oidc import tokens as tok
from idp.oidc.clients import AUTH_METHODS
from idp.oidc.models import AuthorizationCode
from idp.oidc.token_store import revoke_grant
from propusk.crypto import token_hash
from propusk.db import utcnow


class S256CodeChallenge(CodeChallenge):
    """PKCE: S256 only, required for every client."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256",
                redirect_uri=redirect_uri,
            )
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "Only code_challenge_method=S256 is supported", redirect_uri=redirect_uri
            )
        return super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing code_verifier (PKCE is required)")
        return super().validate_code_verifier(grant, result)


class CodeView:
    """Authlib's view of a stored authorization code."""

    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())

    def get_acr(self) -> str | None:
        return self.row.acr

    def get_amr(self) -> list[str]:
        return list(self.row.amr or [])

    def session_claims(self) -> dict:
        """The ID token claims of the login behind the code: ``auth_time``, ``nonce``,
        ``amr``, ``acr`` and ``sid`` (when known)."""
        claims: dict = {"auth_time": self.get_auth_time()}
        if self.get_nonce():
            claims["nonce"] = self.get_nonce()
        if self.get_amr():
            claims["amr"] = self.get_amr()
        if self.get_acr():
            claims["acr"] = self.get_acr()
        if self.row.session_hash:
            claims["sid"] = self.row.session_hash[:32]
        return claims


class CodeGrant(oauth_grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    AUTHORIZATION_CODE_LENGTH = 43

    def validate_authorization_request(self):
        if not self.request.payload.redirect_uri:
            raise InvalidRequestError("Missing redirect_uri")
        return super().validate_authorization_request()

    def save_authorization_code(self, code: str, request) -> None:
        server = self.server
        login = request.login
        data = request.payload.data
        repo.add(
            server.session,
            AuthorizationCode(
                code_hash=token_hash(code),
                client_id=request.client.client_id,
                person_id=request.user.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                nonce=data.get("nonce"),
                code_challenge=data["code_challenge"],
                code_challenge_method="S256",
                auth_time=login.auth_time,
                amr=list(login.amr or []),
                acr=login.acr,
                session_hash=login.id_hash,
                expires_at=utcnow() + timedelta(seconds=server.settings.auth_code_ttl),
            ),
        )

    def query_authorization_code(self, code: str, client):
        """Single use: a second presentation revokes every token of the first one."""
        session = self.server.session
        row = repo.get_code(session, token_hash(code), for_update=True)
        if row is None or row.client_id != client.client_id:
            return None
        now = utcnow()
        if row.used_at is not None or not repo.claim_code(session, row.code_hash, now):
            if row.grant_id is not None:
                revoke_grant(
                    session, row.grant_id, "code_reuse", actor=f"client:{client.client_id}"
                )
            return None
        if row.expires_at <= now:
            return None
        if not client.first_party and not appgrants.covers(
            session, row.person_id, client.client_id, row.scope
        ):
            return None  # the person revoked the application since the code was issued
        return CodeView(row)

    def delete_authorization_code(self, authorization_code) -> None:
        """Codes are kept (marked used) so that a replay can revoke the grant."""

    def authenticate_user(self, authorization_code: CodeView):
        return get_person(self.server.session, authorization_code.row.person_id)


class PropuskOpenIDCode(OpenIDCode):
    """ID tokens signed with the service key; claims from ``idp.claims.claims_for``."""

    def __init__(self, server) -> None:
        super().__init__(require_nonce=False)
        self.server_ref = server

    def exists_nonce(self, nonce, request) -> bool:
        return False  # codes are single-use; the RP checks the nonce in the ID token

    def generate_user_info(self, user, scope):
        return claims_for(self.server_ref.session, user, set(scope.split()))

    def encode_id_token(self, token, request):
        server = self.server_ref
        code: CodeView = request.authorization_code
        claims = {"aud": request.client.client_id, "azp": request.client.client_id}
        claims.update(code.session_claims())
        claims.update(self.generate_user_info(request.user, token["scope"]))
        claims["at_hash"] = tok.half_hash(token["access_token"])
        key = server.signing_key(request.client.id_token_alg)
        return tok.id_token(key, server.settings, claims)
