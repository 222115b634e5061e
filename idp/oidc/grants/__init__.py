"""Authlib grant types of Propusk's authorization server, one module per grant.

``authorization_code`` (with PKCE S256 and OpenID Connect ID tokens), ``refresh_token``
(rotation with reuse detection) and ``client_credentials`` (for private_key_jwt clients; secret
clients are served by the token lane, ``idp.oidc.fastpath``). The server that registers them is
``idp.oidc.authorization_server``; grants reach it (its database session, settings, signing
keys) as ``self.server``.
"""
