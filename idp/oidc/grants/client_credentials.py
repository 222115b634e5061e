"""The client_credentials grant on Authlib's path: clients that authenticate with private_key_jwt.

Secret-based clients (``client_secret_basic``/``client_secret_post``) are served from memory
by the token lane (``idp.oidc.fastpath``) and reach this grant only when the lane hands them on.
The token is stateless (no row, no refresh token); its ``token.issued`` event is recorded by the
server's ``save_token``.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import InvalidScopeError
from authlib.oauth2.rfc6749 import grants as oauth_grants

from idp.oidc.clients import CONFIDENTIAL_AUTH_METHODS


class CredentialsGrant(oauth_grants.ClientCredentialsGrant):
    """client_credentials held to the client's registered scopes."""

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
