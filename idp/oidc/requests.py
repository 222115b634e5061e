"""Authlib's OAuth 2 request on Starlette: the adapter between FastAPI routes and Authlib.

Authlib ships integrations only for Flask and Django. Routes read the body on the event loop
(``idp.oidc.web.form_pairs``), then run Authlib's synchronous code in the threadpool with a
``StarletteOAuth2Request`` that carries the already-read query and form.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from starlette.requests import Request


class StarletteOAuth2Payload(OAuth2Payload):
    """The request's parameters: the first value of each name, and every value."""

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


def oauth_request(
    request: Request, query: Iterable[tuple[str, str]], form: Iterable[tuple[str, str]]
) -> StarletteOAuth2Request:
    """The Authlib request for ``request`` with the given (already read) query and form."""
    return StarletteOAuth2Request(request.method, str(request.url), request.headers, query, form)
