"""Security headers on every response, set once at the edge rather than route by route.

``SecurityHeaders`` is an outer lane (``create_app``): it wraps the whole app, the fast lanes,
the mounted ESIA simulator, ``/docs`` and the static files included, so a page or a route added
later cannot forget them.

* Every response: ``X-Content-Type-Options: nosniff`` (a JSON body or an upload echoed back is
  never sniffed into HTML or script) and ``Referrer-Policy: same-origin`` (URLs with ids and
  OAuth parameters do not leak to other sites; our own Origin/Referer checks keep working).
* HTML pages: ``Content-Security-Policy`` with script and style from this origin only — no
  inline script, no inline style, no ``eval`` — and ``frame-ancestors 'none'`` (with
  ``X-Frame-Options: DENY`` for old browsers): the consent and login pages cannot be framed for
  clickjacking, and an injected tag cannot run. Pages are personal (the cabinet, the consoles,
  a person's art. 14 answer) or carry login state, so ``Cache-Control: no-store`` too.
  A page may have its own policy (``page_policies``: ``/docs``, see ``propusk.apidocs``).
* ``/api/``: ``Cache-Control: no-store`` unless the route set its own (only the public,
  non-personal ones do: the audit checkpoint); personal JSON must stay out of shared and
  browser caches.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from propusk.limits import route_path

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))
PAGE_ONLY = (b"content-security-policy", b"x-frame-options", b"cache-control")


class SecurityHeaders:
    """Pure ASGI layer adding the headers above to each ``http.response.start``."""

    def __init__(self, app: ASGIApp, *, page_policies: Mapping[str, str] | None = None) -> None:
        self.app = app
        self.page_policies = {
            path: policy.encode() for path, policy in (page_policies or {}).items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": self.secure(path, message.get("headers", ()))}
            await send(message)

        await self.app(scope, receive, send_secured)

    def secure(self, path: str, headers: Iterable[tuple[bytes, bytes]]) -> list:
        """One pass over the response's headers (this runs for every response, the token and
        gated-pull lanes' included)."""
        out = []
        names = set()
        ctype = b""
        for name, value in headers:
            name = bytes(name).lower()
            out.append((name, value))
            names.add(name)
            if name == b"content-type":
                ctype = bytes(value)
        for name, value in ALWAYS:
            if name not in names:
                out.append((name, value))
        if ctype.lower().startswith(b"text/html"):
            out = [(name, value) for name, value in out if name not in PAGE_ONLY]
            policy = self.page_policies.get(path, PAGE_POLICY.encode())
            out += [
                (b"content-security-policy", policy),
                (b"x-frame-options", b"DENY"),
                (b"cache-control", b"no-store"),
            ]
        elif path.startswith("/api/") and b"cache-control" not in names:
            out.append((b"cache-control", b"no-store"))
        return out
