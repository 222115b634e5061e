"""Cross-site request forgery: the checks every cookie-authenticated state change passes.

Propusk's own pages act for the person logged in through the login cookie, so any page on
another origin could make the browser send it (the cookie is ``SameSite=Lax``, which still
lets top-level form POSTs of some browsers and same-site subdomains through). A state change
carried by the cookie therefore needs both:

* an ``Origin`` (or, without one, a ``Referer``) of Propusk's own origin — the issuer's — and
* the session's CSRF token, in the ``X-CSRF-Token`` header (scripts) or the ``csrf_token``
  form field (HTML forms): a synchronizer token derived from the login session (HMAC under the
  session secret), so it needs no storage, changes with every login and is useless once the
  session ends.

The principal resolver applies this to every cookie-authenticated unsafe request; the HTML form
routes that read the cookie themselves (the consent screen, the signing page, logout) call
``verify`` with their form field. Requests with a bearer token carry no ambient authority and are
not checked.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from idp.oidc.models import LoginSession
from propusk.errors import Forbidden
from propusk.origins import origin_of
from propusk.security import Principal
from propusk.settings import Settings

HEADER = "x-csrf-token"
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_for(settings: Settings, session_hash: str) -> str:
    """The CSRF token of one login session (by its id hash)."""
    mac = hmac.new(
        settings.session_secret.encode(), b"csrf:" + session_hash.encode(), hashlib.sha256
    )
    return mac.hexdigest()


def token_of(settings: Settings, principal: Principal) -> str | None:
    """The CSRF token of the login session behind a principal of Propusk's own pages (what a
    page embeds for its scripts and forms); None for anyone else."""
    if not principal.first_party or principal.auth is None or not principal.auth.session_hash:
        return None
    return token_for(settings, principal.auth.session_hash)


def same_origin(request: Request, settings: Settings) -> bool:
    """The request comes from a page of Propusk's own origin (``Origin``, else ``Referer``)."""
    ours = origin_of(settings.issuer)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin != "null" and origin_of(origin) == ours
    referer = request.headers.get("referer")
    return referer is not None and origin_of(referer) == ours


def verify(
    request: Request, settings: Settings, login: LoginSession, presented: str | None
) -> None:
    """Refuse (403 problem+json) a cookie-authenticated state change from another origin or
    without the session's token."""
    if not same_origin(request, settings):
        raise Forbidden("the request did not come from Propusk's own pages", type="foreign-origin")
    expected = token_for(settings, login.id_hash)
    if not presented or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Forbidden("the CSRF token is missing or wrong; reload the page", type="csrf-failed")
