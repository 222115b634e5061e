"""Propusk's Authlib authorization server, assembled per request around its database session.

``PropuskAuthorizationServer`` registers the client authentication methods
(``idp.oidc.clientauth``), the grants (``idp.oidc.grants``) and the introspection and
revocation endpoints (``idp.oidc.endpoints``), and provides what Authlib asks of its storage:
the client lookup, the token generator (JWT access tokens, opaque refresh tokens) and
``save_token`` (grant and token rows, ``token.issued`` events). Authlib's answers become
Starlette responses in ``handle_response``. The routes build one per request
(``idp.oidc.web.make_server``).
"""

from __future__ import annotations

import secrets

from authlib.oauth2.rfc6749 import AuthorizationServer, InvalidClientError
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from audit.service import record
from idp.oidc import clientauth, keys
from idp.oidc import tokens as tok
from idp.oidc.clients import get_client
from idp.oidc.endpoints import Introspection, Revocation
from idp.oidc.grants.authorization_code import CodeGrant, PropuskOpenIDCode, S256CodeChallenge
from idp.oidc.grants.client_credentials import CredentialsGrant
from idp.oidc.grants.refresh_token import RefreshGrant
from idp.oidc.models import Grant
from idp.oidc.token_store import create_grant, record_token
from propusk.settings import Settings

OFFLINE = "offline_access"  # the scope that brings a refresh token (OIDC Core 11)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class PropuskAuthorizationServer(AuthorizationServer):
    """Authlib's server bound to one request's database session."""

    def __init__(self, session: Session, settings: Settings, clients=None) -> None:
        super().__init__(scopes_supported=None)
        self.session = session
        self.settings = settings
        self.clients = clients
        self.register_token_generator("default", self._generate_token)
        clientauth.register(self)
        self.register_grant(CodeGrant, [S256CodeChallenge(required=True), PropuskOpenIDCode(self)])
        self.register_grant(RefreshGrant)
        self.register_grant(CredentialsGrant)
        self.register_endpoint(Introspection)
        self.register_endpoint(Revocation)
        self._jti: str | None = None
        self._keys: dict[str, keys.LoadedKey] = {}

    def signing_key(self, alg: str) -> keys.LoadedKey:
        """The current key of ``alg``, read once per request."""
        if alg not in self._keys:
            self._keys[alg] = keys.current_key(self.session, self.settings, alg)
        return self._keys[alg]

    def authenticate_client(self, request, methods, endpoint="token"):
        """Authlib's client authentication with our registered methods; a failure is 401 with
        a ``Basic`` challenge only when the client tried HTTP Basic (RFC 6749 §5.2), else 400 —
        the fast lane's answer for the same credentials (``idp.oidc.clientauth``)."""
        try:
            return super().authenticate_client(request, methods, endpoint)
        except InvalidClientError as err:
            tried_basic = clientauth.basic_credentials(request.headers.get("authorization"))
            err.status_code = 401 if tried_basic is not None else 400
            raise

    # -- storage ------------------------------------------------------------------------------
    def query_client(self, client_id: str):
        if not isinstance(client_id, str):
            return None
        return get_client(self.session, client_id)

    def _generate_token(
        self,
        grant_type,
        client,
        user=None,
        scope=None,
        expires_in=None,
        include_refresh_token=True,
    ) -> dict:
        self._jti = tok.new_jti()
        key = self.signing_key(self.settings.signing_alg)
        sub = str(user.id) if user is not None else client.client_id
        token = {
            "token_type": "Bearer",
            "access_token": tok.access_token(
                key,
                self.settings,
                client_id=client.client_id,
                sub=sub,
                scope=scope or "",
                jti=self._jti,
            ),
            "expires_in": self.settings.access_token_ttl,
        }
        if scope:
            token["scope"] = scope
        if include_refresh_token and user is not None and OFFLINE in (scope or "").split():
            token["refresh_token"] = secrets.token_urlsafe(32)
        return token

    def save_token(self, token: dict, request) -> None:
        client = request.client
        if request.user is None:
            record(
                self.session,
                "token.issued",
                actor=f"client:{client.client_id}",
                body={"grant_type": "client_credentials", "scope": token.get("scope", "")},
            )
            return
        grant = self._grant_for(request)
        scope = token.get("scope", "")
        record_token(
            self.session,
            kind="access",
            secret=self._jti,
            grant_id=grant.id,
            client_id=client.client_id,
            scope=scope,
            ttl=self.settings.access_token_ttl,
        )
        if "refresh_token" in token:
            record_token(
                self.session,
                kind="refresh",
                secret=token["refresh_token"],
                grant_id=grant.id,
                client_id=client.client_id,
                scope=grant.scope,
                ttl=self.settings.refresh_token_ttl,
            )
        record(
            self.session,
            "token.issued",
            actor=f"client:{client.client_id}",
            subject=f"person:{request.user.id}",
            body={"grant_type": request.payload.grant_type, "scope": scope},
        )

    def _grant_for(self, request) -> Grant:
        """The token family the tokens belong to: the refreshed one, or a new one per code."""
        if request.refresh_token is not None:
            return request.refresh_token.grant
        code = request.authorization_code.row
        grant = create_grant(
            self.session,
            client_id=code.client_id,
            person_id=code.person_id,
            scope=code.scope,
            auth_time=code.auth_time,
            amr=list(code.amr or []),
            acr=code.acr,
            session_hash=code.session_hash,
        )
        code.grant_id = grant.id
        self.session.flush()
        return grant

    # -- framework glue -----------------------------------------------------------------------
    def create_oauth2_request(self, request):
        return request

    def create_json_request(self, request):
        raise NotImplementedError

    def handle_response(self, status_code, payload, headers) -> Response:
        headers = dict(headers or [])
        if isinstance(payload, dict):
            headers.update(NO_STORE)
            headers.pop("Content-Type", None)
            return JSONResponse(payload, status_code=status_code, headers=headers)
        return Response(payload or b"", status_code=status_code, headers=headers)

    def send_signal(self, name, *args, **kwargs) -> None:
        """No signal bus: audit events are recorded by the storage callbacks."""
