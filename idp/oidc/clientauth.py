"""Client authentication by secret: the one check the token fast lane and Authlib both run.

``client_secret_basic`` and ``client_secret_post`` are registered as Authlib's methods with
these functions (``register``), and ``idp.oidc.fastpath`` calls the same ``check_secret`` and
``basic_credentials`` for the client_credentials lane, so a client is authenticated the same way
whichever path serves its request (a test compares them). private_key_jwt stays with
``server.PrivateKeyJWT`` (Authlib's RFC 7523 verification with our limits).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from urllib.parse import unquote

from authlib.oauth2.rfc6749 import InvalidClientError

from idp.oidc.service import ClientInfo

SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def basic_credentials(header: str | None) -> tuple[str, str] | bool | None:
    """(client_id, secret) from ``Authorization: Basic``; None if absent; False if malformed.

    RFC 6749 §2.3.1: both are form-urlencoded before the base64 step."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return False
    return unquote(client_id), unquote(secret)


def check_secret(client: ClientInfo | None, method: str, secret: object) -> ClientInfo | None:
    """The client if it exists, is registered for ``method`` and ``secret`` is its secret."""
    if client is None or method not in SECRET_METHODS or client.auth_method != method:
        return None
    return client if client.check_client_secret(secret) else None


QueryClient = Callable[[str], ClientInfo | None]


def _basic(query_client: QueryClient, request) -> ClientInfo | None:
    credentials = basic_credentials(request.headers.get("authorization"))
    if credentials is False:
        raise InvalidClientError(status_code=401, description="Malformed Basic credentials")
    if not credentials:
        return None
    client_id, secret = credentials
    return check_secret(query_client(client_id), "client_secret_basic", secret)


def _post(query_client: QueryClient, request) -> ClientInfo | None:
    client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
    if not client_id or not secret:
        return None
    return check_secret(query_client(client_id), "client_secret_post", secret)


def register(server) -> None:
    """Make these the secret methods of an Authlib ``AuthorizationServer``."""
    server.register_client_auth_method("client_secret_basic", _basic)
    server.register_client_auth_method("client_secret_post", _post)
