"""The refresh token grant: rotation with reuse detection.

Presenting an already used refresh token (by its own client) revokes the whole grant (token
family) and records ``token.refresh_reuse``. The token is claimed atomically only after the
client, the token and the scope have been validated, right before the new tokens are issued;
another client's token is simply unknown to the presenter.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidGrantError
from authlib.oauth2.rfc6749 import grants as oauth_grants

from audit.service import record
from idp.identity import get_person
from idp.oidc import repository as repo
from idp.oidc.clients import AUTH_METHODS
from idp.oidc.models import Grant, IssuedToken
from idp.oidc.token_store import revoke_grant
from propusk.crypto import token_hash
from propusk.db import utcnow


class RefreshView:
    """Authlib's view of a stored refresh token (``TokenMixin``)."""

    def __init__(self, row: IssuedToken, grant: Grant) -> None:
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


class RefreshGrant(oauth_grants.RefreshTokenGrant):
    """Rotation with reuse detection (see the module docstring)."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def _validate_request_token(self, client):
        self._presenter = client
        return super()._validate_request_token(client)

    def authenticate_refresh_token(self, refresh_token: str):
        session = self.server.session
        row = repo.get_token(session, token_hash(refresh_token))
        if row is None or row.kind != "refresh" or row.client_id != self._presenter.client_id:
            return None  # another client's token is simply unknown to this one
        grant = repo.get_grant(session, row.grant_id)
        if grant is None or grant.revoked_at is not None or row.revoked_at is not None:
            return None
        if row.used_at is not None:
            self._reuse(row, grant)
            return None
        if row.expires_at <= utcnow():
            return None
        return RefreshView(row, grant)

    def _reuse(self, row: IssuedToken, grant: Grant) -> None:
        session = self.server.session
        actor = f"client:{row.client_id}"
        revoke_grant(session, grant.id, "refresh_reuse", actor=actor)
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
        return get_person(self.server.session, refresh_token.grant.person_id)

    def revoke_old_credential(self, refresh_token: RefreshView) -> None:
        """Already claimed (marked used) in ``create_token_response``."""
