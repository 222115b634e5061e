"""The OpenID Connect provider of Propusk (Authlib server classes + our Starlette adapter).

Public surface for other packages:
- ``idp.oidc.keys.sign_jws(session, settings, payload, typ) -> str`` and
  ``idp.oidc.keys.public_jwks(session) -> dict`` (receipts, tickets; verifiable with /jwks.json);
- ``idp.oidc.service.bind_client(session, client_id, organization_id, role)``,
  ``create_client(...)``, ``get_client(session, client_id) -> ClientInfo``;
- ``idp.oidc.principal.resolve`` (installed as ``app.state.principal_resolver``) and
  ``verify_access_token(session, settings, token)``.

Routes: ``/.well-known/openid-configuration``, ``/jwks.json``, ``/oauth2/{authorize,token,
userinfo,introspect,revoke,logout}``, ``/login`` (first-party login for the web UI, ``?next=``)
and ``/login/{upstream}/callback`` (GET or POST; POSTed fields are on ``request.state.form``;
an ``UpstreamError`` carrying ``txn_id`` becomes the OIDC error response to the RP).
Admin API (platform_admin): ``/api/v1/clients`` (GET, POST), ``/api/v1/clients/{id}`` (GET,
DELETE), ``/api/v1/clients/{id}/binding`` (PUT), ``/api/v1/keys/rotate`` (POST).
"""
