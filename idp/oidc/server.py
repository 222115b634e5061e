"""Authlib's authorization server on Starlette requests, with Propusk's grants and storage.

Authlib ships integrations only for Flask and Django; this module is the small adapter for
Starlette/FastAPI: ``StarletteOAuth2Request`` carries the already-read query and form (routes
read the body on the event loop, then run this synchronous code in the threadpool), and
``PropuskAuthorizationServer`` is built per request around that request's database session.
"""

from __future__ import annotations

import logging
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import httpx
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6749 import grants as oauth_grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import OpenIDCode
from joserfc.jwk import KeySet
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from idp.oidc import appgrants, clientauth, keys, service
from idp.oidc import repository as repo
from idp.oidc import tokens as tok
from idp.oidc.models import AuthorizationCode, IssuedToken, UsedAssertion
from propusk.crypto import token_hash
from propusk.db import utcnow
from propusk.settings import Settings

log = logging.getLogger("propusk.oidc")

ALL_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
CONFIDENTIAL_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
ASSERTION_ALGS = ("ES256", "ES384", "RS256", "PS256", "EdDSA")
OFFLINE = "offline_access"  # the scope that brings a refresh token (OIDC Core 11)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# -- the request adapter ---------------------------------------------------------------
class StarletteOAuth2Payload(OAuth2Payload):
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._data: dict[str, str] = {}
        self._datalist: defaultdict[str, list] = defaultdict(list)
        for k, v in items:
            self._data.setdefault(k, v)
            self._datalist[k].append(v)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list]:
        return self._datalist


class StarletteOAuth2Request(OAuth2Request):
    """An OAuth2Request from a Starlette request whose body was already read.

    TLS is terminated in front of us (``Settings.check_production`` demands an https issuer),
    so Authlib's transport check is run against the issuer, not the proxied URL.
    """

    def __init__(
        self,
        method: str,
        url: str,
        headers,
        query: Iterable[tuple[str, str]],
        form: Iterable[tuple[str, str]],
    ) -> None:
        super().__init__(method, "https://propusk.invalid/", headers=headers)
        self.uri = url
        query, form = list(query), list(form)
        self._form: dict[str, str] = {}
        for k, v in form:
            self._form.setdefault(k, v)
        self._args: dict[str, str] = {}
        for k, v in query:
            self._args.setdefault(k, v)
        self.payload = StarletteOAuth2Payload(query + form)
        self.login = None  # the LoginSession behind an authorization request

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


# -- PKCE: S256 only, required for every client ---------------------------------------------
class S256CodeChallenge(CodeChallenge):
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


class RefreshView:
    """Authlib's view of a stored refresh token (``TokenMixin``)."""

    def __init__(self, row: IssuedToken, grant) -> None:
        self.row = row
        self.grant = grant

    def check_client(self, client) -> bool:
        return client.get_client_id() == self.row.client_id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.expires_at - utcnow()).total_seconds())

    def is_expired(self) -> bool:
        return self.row.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None or self.grant.revoked_at is not None


# -- grants ------------------------------------------------------------------------------
class CodeGrant(oauth_grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS
    AUTHORIZATION_CODE_LENGTH = 43

    def validate_authorization_request(self):
        if not self.request.payload.redirect_uri:
            raise InvalidRequestError("Missing redirect_uri")
        return super().validate_authorization_request()

    def save_authorization_code(self, code: str, request) -> None:
        server: PropuskAuthorizationServer = self.server
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
        server: PropuskAuthorizationServer = self.server
        row = repo.get_code(server.session, token_hash(code), for_update=True)
        if row is None or row.client_id != client.client_id:
            return None
        now = utcnow()
        if row.used_at is not None or not repo.claim_code(server.session, row.code_hash, now):
            if row.grant_id is not None:
                service.revoke_grant(
                    server.session, row.grant_id, "code_reuse", actor=f"client:{client.client_id}"
                )
            return None
        if row.expires_at <= now:
            return None
        if not client.first_party and not appgrants.covers(
            server.session, row.person_id, client.client_id, row.scope
        ):
            return None  # the person revoked the application since the code was issued
        return CodeView(row)

    def delete_authorization_code(self, authorization_code) -> None:
        """Codes are kept (marked used) so that a replay can revoke the grant."""

    def authenticate_user(self, authorization_code: CodeView):
        from idp.service import get_person

        return get_person(self.server.session, authorization_code.row.person_id)


class RefreshGrant(oauth_grants.RefreshTokenGrant):
    """Rotation with reuse detection: presenting an already used refresh token (by its own
    client) revokes the whole grant. The token is claimed atomically only after the client,
    the token and the scope have been validated, right before the new tokens are issued."""

    TOKEN_ENDPOINT_AUTH_METHODS = ALL_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def _validate_request_token(self, client):
        self._presenter = client
        return super()._validate_request_token(client)

    def authenticate_refresh_token(self, refresh_token: str):
        server: PropuskAuthorizationServer = self.server
        row = repo.get_token(server.session, token_hash(refresh_token))
        if row is None or row.kind != "refresh" or row.client_id != self._presenter.client_id:
            return None  # another client's token is simply unknown to this one
        grant = repo.get_grant(server.session, row.grant_id)
        if grant is None or grant.revoked_at is not None or row.revoked_at is not None:
            return None
        if row.used_at is not None:
            self._reuse(row, grant)
            return None
        if row.expires_at <= utcnow():
            return None
        return RefreshView(row, grant)

    def _reuse(self, row: IssuedToken, grant) -> None:
        from audit.service import record

        session = self.server.session
        actor = f"client:{row.client_id}"
        service.revoke_grant(session, grant.id, "refresh_reuse", actor=actor)
        record(
            session,
            "token.refresh_reuse",
            actor=actor,
            subject=f"person:{grant.person_id}",
            body={"grant": str(grant.id)},
        )

    def create_token_response(self):
        view: RefreshView = self.request.refresh_token
        if not repo.claim_refresh(self.server.session, view.row.token_hash, utcnow()):
            self._reuse(view.row, view.grant)  # a concurrent request used it first
            raise InvalidGrantError("The refresh token was already used")
        return super().create_token_response()

    def authenticate_user(self, refresh_token: RefreshView):
        from idp.service import get_person

        return get_person(self.server.session, refresh_token.grant.person_id)

    def revoke_old_credential(self, refresh_token: RefreshView) -> None:
        """Already claimed (marked used) in ``create_token_response``."""


class CredentialsGrant(oauth_grants.ClientCredentialsGrant):
    """client_credentials for private_key_jwt (secret-based clients take the fast path)."""

    TOKEN_ENDPOINT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def validate_token_request(self):
        super().validate_token_request()
        scope = self.request.client.get_allowed_scope(self.request.payload.scope)
        if scope is None:
            raise InvalidScopeError()
        self.request.scope = scope

    def create_token_response(self):
        token = self.generate_token(scope=self.request.scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class PropuskOpenIDCode(OpenIDCode):
    """ID tokens signed with the service key; claims from ``idp.service.claims_for``."""

    def __init__(self, server_ref) -> None:
        super().__init__(require_nonce=False)
        self.server_ref = server_ref

    def exists_nonce(self, nonce, request) -> bool:
        return False  # codes are single-use; the RP checks the nonce in the ID token

    def generate_user_info(self, user, scope):
        from idp.service import claims_for

        return claims_for(self.server_ref.session, user, set(scope.split()))

    def encode_id_token(self, token, request):
        server: PropuskAuthorizationServer = self.server_ref
        code: CodeView = request.authorization_code
        claims = {"aud": request.client.client_id, "azp": request.client.client_id}
        claims.update(server.id_token_session_claims(code))
        claims.update(self.generate_user_info(request.user, token["scope"]))
        claims["at_hash"] = tok.half_hash(token["access_token"])
        key = server.signing_key(request.client.id_token_alg)
        return tok.id_token(key, server.settings, claims)


# -- client authentication: private_key_jwt ---------------------------------------------
class PrivateKeyJWT(JWTBearerClientAssertion):
    """RFC 7523 client assertions: asymmetric algs only, audience = us, ``jti`` used once."""

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, server: PropuskAuthorizationServer) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.server = server

    def get_audiences(self) -> list[str]:
        issuer = self.server.settings.issuer.rstrip("/")
        return [issuer, issuer + "/", issuer + "/oauth2/token"]

    def extract_assertion(self, assertion: str):
        headers, claims = super().extract_assertion(assertion)
        if headers.get("alg") not in ASSERTION_ALGS:
            raise InvalidClientError(description="Client assertion alg must be asymmetric")
        return headers, claims

    def verify_claims(self, claims):
        super().verify_claims(claims)
        _short_lived(claims)
        self._claims = claims

    def validate_jti(self, claims, jti) -> bool:
        session = self.server.session
        jti_hash = token_hash(f"{claims['sub']}:{jti}")
        if repo.assertion_seen(session, jti_hash):
            return False
        exp = claims.get("exp")
        expires_at = (
            utcnow() + timedelta(seconds=max(0, int(exp - time.time())) + 60)
            if isinstance(exp, int | float)
            else utcnow() + timedelta(hours=1)
        )
        try:
            with session.begin_nested():
                session.add(
                    UsedAssertion(jti_hash=jti_hash, client_id=claims["sub"], expires_at=expires_at)
                )
        except IntegrityError:
            return False
        return True

    def resolve_client_public_key(self, client):
        jwks = client.jwks
        if jwks is None and client.jwks_uri:
            jwks = fetch_jwks(client.jwks_uri)
        if not jwks:
            raise InvalidClientError(description="The client has no public keys")
        public = [
            {k: v for k, v in key.items() if k not in ("d", "p", "q", "dp", "dq", "qi", "k")}
            for key in jwks.get("keys", [])
            if key.get("kty") in ("EC", "RSA", "OKP")
        ]
        try:
            return KeySet.import_key_set({"keys": public})
        except Exception as exc:  # malformed registered JWKS
            raise InvalidClientError(description="The client's JWKS is invalid") from exc

    def __call__(self, query_client, request):
        try:
            return super().__call__(query_client, request)
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            raise InvalidClientError(description="Invalid client assertion") from exc


MAX_ASSERTION_LIFETIME = 300  # seconds; a longer-lived assertion is a replayable credential


def _short_lived(claims) -> None:
    """A client assertion lives at most ``MAX_ASSERTION_LIFETIME`` seconds: counted from its
    ``iat`` (when given) and from now, so neither a long ``exp - iat`` nor an ``exp`` far ahead
    passes."""
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise InvalidClientError(description="Client assertion lacks exp")
    if exp - time.time() > MAX_ASSERTION_LIFETIME:
        raise InvalidClientError(description="Client assertion lives too long (max 300 s)")
    numeric_iat = isinstance(iat, int | float) and not isinstance(iat, bool)
    if numeric_iat and exp - iat > MAX_ASSERTION_LIFETIME:
        raise InvalidClientError(description="Client assertion lives too long (max 300 s)")


_jwks_cache: dict[str, tuple[float, dict]] = {}


def fetch_jwks(uri: str) -> dict:
    """A client's JWKS by URI, cached for five minutes."""
    hit = _jwks_cache.get(uri)
    if hit and time.monotonic() - hit[0] < 300:
        return hit[1]
    try:
        data = httpx.get(uri, timeout=5).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise InvalidClientError(description="Could not fetch the client's jwks_uri") from exc
    _jwks_cache[uri] = (time.monotonic(), data)
    return data


# -- introspection and revocation ----------------------------------------------------------
class TokenRecord(dict):
    """What introspection/revocation found: claims plus how to revoke it."""

    def __init__(self, data: dict, *, kind: str, client_id: str, active: bool) -> None:
        super().__init__(data)
        self.kind = kind
        self.client_id = client_id
        self.active = active

    def check_client(self, client) -> bool:
        return client.get_client_id() == self.client_id

    def is_expired(self) -> bool:
        return not self.active

    def is_revoked(self) -> bool:
        return not self.active


class TokenLookupMixin:
    SUPPORTED_TOKEN_TYPES = ("access_token", "refresh_token")
    CLIENT_AUTH_METHODS = CONFIDENTIAL_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None):
        server: PropuskAuthorizationServer = self.server
        if token_string.count(".") == 2:
            found = server.lookup_access_token(token_string)
            if found is not None:
                return found
        return server.lookup_refresh_token(token_string)


class Introspection(TokenLookupMixin, IntrospectionEndpoint):
    def check_permission(self, token: TokenRecord, client, request) -> bool:
        """A client may introspect its own tokens and those of the clients it is registered as
        resource server for; any other token is ``{"active": false}`` (RFC 7662 §2.2)."""
        return token.check_client(client) or token.client_id in client.resource_server_for

    def introspect_token(self, token: TokenRecord) -> dict:
        return dict(token, active=True)


class Revocation(TokenLookupMixin, RevocationEndpoint):
    def authenticate_token(self, request, client):
        """RFC 7009 §2.2: a token of another client is ignored, the answer is still 200."""
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is not None and not token.check_client(client):
            return None
        return token

    def revoke_token(self, token: TokenRecord, request) -> None:
        self.server.revoke(token)


# -- the server --------------------------------------------------------------------------
class PropuskAuthorizationServer(AuthorizationServer):
    """Authlib's server bound to one request's database session."""

    def __init__(self, session: Session, settings: Settings, clients=None) -> None:
        super().__init__(scopes_supported=None)
        self.session = session
        self.settings = settings
        self.clients = clients
        self.register_token_generator("default", self._generate_token)
        clientauth.register(self)
        self.register_client_auth_method("private_key_jwt", PrivateKeyJWT(self))
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

    # storage
    def query_client(self, client_id: str):
        if not isinstance(client_id, str):
            return None
        return service.get_client(self.session, client_id)

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
        from audit.service import record

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
        service.record_token(
            self.session,
            kind="access",
            secret=self._jti,
            grant_id=grant.id,
            client_id=client.client_id,
            scope=scope,
            ttl=self.settings.access_token_ttl,
        )
        if "refresh_token" in token:
            service.record_token(
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

    def _grant_for(self, request):
        if request.refresh_token is not None:
            return request.refresh_token.grant
        code: CodeView = request.authorization_code
        grant = service.create_grant(
            self.session,
            client_id=code.row.client_id,
            person_id=code.row.person_id,
            scope=code.row.scope,
            auth_time=code.row.auth_time,
            amr=list(code.row.amr or []),
            acr=code.row.acr,
            session_hash=code.row.session_hash,
        )
        code.row.grant_id = grant.id
        self.session.flush()
        return grant

    def id_token_session_claims(self, code: CodeView) -> dict:
        claims: dict = {"auth_time": code.get_auth_time()}
        if code.get_nonce():
            claims["nonce"] = code.get_nonce()
        if code.get_amr():
            claims["amr"] = code.get_amr()
        if code.get_acr():
            claims["acr"] = code.get_acr()
        if code.row.session_hash:
            claims["sid"] = code.row.session_hash[:32]
        return claims

    # token lookup for introspection / revocation
    def lookup_access_token(self, token: str) -> TokenRecord | None:
        """An access token that ``principal.verify_access_token`` accepts (the resolver's own
        validation: signature, type, issuer, audience, expiry, revocation, client still
        registered), else None — introspection then answers ``{"active": false}``."""
        from idp.oidc.principal import InvalidToken, verify_access_token

        try:
            claims = verify_access_token(self.session, self.settings, token, self.clients)
        except InvalidToken:
            return None
        client_id = claims.get("client_id")
        if not isinstance(client_id, str):
            return None
        data = {
            k: claims[k]
            for k in ("scope", "client_id", "sub", "aud", "iss", "exp", "iat", "jti")
            if k in claims
        }
        data["token_type"] = "Bearer"
        record = TokenRecord(data, kind="access", client_id=client_id, active=True)
        record.claims = claims
        return record

    def lookup_refresh_token(self, token: str) -> TokenRecord | None:
        row = repo.get_token(self.session, token_hash(token))
        if row is None or row.kind != "refresh":
            return None
        grant = repo.get_grant(self.session, row.grant_id)
        active = (
            grant is not None
            and grant.revoked_at is None
            and row.revoked_at is None
            and row.used_at is None
            and row.expires_at > utcnow()
        )
        data = {
            "scope": row.scope,
            "client_id": row.client_id,
            "sub": str(grant.person_id) if grant else None,
            "exp": int(row.expires_at.timestamp()),
            "iat": int(row.created_at.timestamp()),
            "token_type": "refresh_token",
        }
        record = TokenRecord(data, kind="refresh", client_id=row.client_id, active=active)
        record.row = row
        return record

    def revoke(self, token: TokenRecord) -> None:
        """Refresh token → the whole grant; access token → that token (or its ``jti``)."""
        from audit.service import record

        actor = f"client:{token.client_id}"
        if token.kind == "refresh":
            service.revoke_grant(self.session, token.row.grant_id, "revoked", actor=actor)
            return
        claims = token.claims
        if claims.get("sub") == token.client_id:
            exp = claims.get("exp") if isinstance(claims.get("exp"), int) else time.time()
            service.deny_jti(
                self.session,
                claims["jti"],
                utcnow() + timedelta(seconds=max(0, int(exp - time.time())) + 60),
            )
        else:
            repo.revoke_token(self.session, token_hash(claims["jti"]), utcnow())
        record(self.session, "token.revoked", actor=actor, body={"kind": "access_token"})

    # framework glue
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


def with_iss(response: Response, issuer: str) -> Response:
    """RFC 9207: the issuer in every authorization response, success or error."""
    location = response.headers.get("location")
    if location and "iss" not in dict(parse_qsl(urlsplit(location).query)):
        response.headers["location"] = add_params_to_uri(location, [("iss", issuer)])
    return response


def new_person_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None
