"""The OpenID Connect provider of Propusk (Authlib server classes + our Starlette adapter).

Modules, dependencies pointing up the list:
- storage: ``models``, ``repository``; ``acr`` (login classes), ``csrf``;
- services (take a session, never commit): ``clients`` (the client registry), ``logins``
  (parked authorization requests, login sessions), ``token_store`` (grants, issued tokens,
  revocation), ``appgrants`` (what a person let each application do), ``keys`` (signing keys,
  JWS), ``tokens`` (access and ID tokens);
- ``principal`` (who is calling: the one access-token validation);
- the Authlib server: ``requests`` (Starlette adapter), ``clientauth`` (client authentication),
  ``grants/`` (authorization code, refresh token, client credentials), ``endpoints``
  (introspection, revocation), ``authorization_server`` (the assembly); ``fastpath`` (the
  client_credentials token lane, sharing the secret check of ``clientauth``);
- routes: ``routes`` (protocol endpoints), ``authorize`` (authorization endpoint, consent
  screen), ``login_routes``, ``session_routes``, ``admin_routes``; ``web`` (what they share),
  ``schemas``; ``wiring`` (``install(app)``), ``cli``.

Public surface for other packages:
- ``idp.oidc.keys.sign_jws(session, settings, payload, typ) -> str`` and
  ``idp.oidc.keys.public_jwks(session) -> dict`` (receipts, tickets; verifiable with /jwks.json);
- ``idp.oidc.clients.bind_client(session, client_id, organization_id, role)``,
  ``create_client(...)``, ``get_client(session, client_id) -> ClientInfo``;
- ``idp.oidc.token_store.refused_client_tokens`` / ``ClientToken`` (hot paths that cache a
  verified client token);
- ``idp.oidc.principal.resolve`` (installed as ``app.state.principal_resolver``) and
  ``verify_access_token(session, settings, token)``.

Routes: ``/.well-known/openid-configuration``, ``/jwks.json``, ``/oauth2/{authorize,token,
userinfo,introspect,revoke,logout}``, ``/login`` (first-party login for the web UI, ``?next=``)
and ``/login/{upstream}/callback`` (GET or POST; POSTed fields are on ``request.state.form``;
an ``UpstreamError`` carrying ``txn_id`` becomes the OIDC error response to the RP).
Admin API (platform_admin): ``/api/v1/clients`` (GET, POST), ``/api/v1/clients/{id}`` (GET,
DELETE), ``/api/v1/clients/{id}/binding`` (PUT), ``/api/v1/keys/rotate`` (POST).
"""
