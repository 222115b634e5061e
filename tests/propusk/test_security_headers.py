"""Every response carries the security headers (``propusk.headers``), set once at the edge.

The walk requests every GET route of the app (``policies.deps.iter_routes``) as an anonymous
caller and as a logged-in platform admin, plus the mounted ESIA simulator's pages, the static
files and the art. 14 answer page, without following redirects, and checks each answer:
nosniff and a Referrer-Policy everywhere; on HTML a CSP that allows no inline script,
``frame-ancestors 'none'`` and ``no-store``; on ``/api/`` ``no-store`` unless the route is
public. Rendered HTML is also read for inline ``<script>``, ``<style>``, ``style=`` and ``on…=``
handlers, which the policy would block in a browser (``tests/e2e/test_browser_csp.py`` loads
the pages in Chromium).
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from policies.deps import iter_routes
from tests.propusk.callers import act_as_platform_admin

PLACEHOLDER = re.compile(r"\{(\w+)(?::\w+)?\}")
VALUES = {"index": "0", "client_id": "nobody", "name": "esia"}
INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style element": re.compile(r"<style[\s>]", re.I),
    "style attribute": re.compile(r"<[^>]+\sstyle\s*=", re.I),
    "event handler": re.compile(r"<[^>]+\son[a-z]+\s*=", re.I),
}
PAGES = {  # HTML pages the walk must meet (route paths)
    "/",
    "/policy",
    "/cabinet",
    "/school/{school_id}",
    "/exams/{exam_id}/take",
    "/exams/{exam_id}/proctor",
    "/docs",
    "/oauth2/authorize",
    "/login/{name}/callback",
    "/esia-sim/",
    "/esia-sim/aas/oauth2/v2/ac",
    "/esia-sim/idp/ext/Logout",
    "/api/v1/access-requests/{request_id}.html",
}


def check(response: httpx.Response, route: str, public: bool) -> bool:
    """Assert the headers of one answer; True if it was an HTML page."""
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    h = response.headers
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("referrer-policy") in ("same-origin", "no-referrer"), where
    html = h.get("content-type", "").startswith("text/html")
    if html:
        directives = [d.split() for d in h["content-security-policy"].split(";") if d.strip()]
        csp = {d[0]: d[1:] for d in directives}
        assert csp["script-src"] == ["'self'"], where
        assert csp["frame-ancestors"] == ["'none'"], where
        assert csp["object-src"] == ["'none'"], where
        assert "'unsafe-inline'" not in csp.get("style-src", ["'unsafe-inline'"]), where
        assert h["cache-control"] == "no-store", where
        assert h["x-frame-options"] == "DENY", where
        for what, pattern in INLINE.items():
            found = pattern.search(response.text)
            assert found is None, f"{where}: {what}: {found and found.group(0)[:120]}"
    elif route.startswith("/api/") and not public:
        assert h.get("cache-control") == "no-store", where
    return html


def concrete(path: str) -> str:
    if path == "/docs/assets/{name}":
        return "/docs/assets/swagger-ui.css"
    return PLACEHOLDER.sub(lambda m: VALUES.get(m[1], str(uuid.uuid4())), path)


@pytest.fixture
def person_id(runtime) -> uuid.UUID:
    """A real person row (the art. 14 answer is about someone)."""
    from idp import login as idp_login
    from propusk.db import session_scope
    from tests.idp.factories import identity

    with session_scope(runtime.sessionmaker) as s:
        return idp_login.on_login(s, identity(), settings=runtime.settings).id


def test_every_get_route_and_page_sends_the_security_headers(app, client, person_id):
    routes = [r for r in iter_routes(app) if "GET" in r.methods]
    real_resolver = app.state.principal_resolver
    seen_pages: set[str] = set()
    for caller in ("anonymous", "admin"):
        if caller == "admin":
            act_as_platform_admin(app, person_id)
        for route in routes:
            r = client.get(concrete(route.path), follow_redirects=False)
            if check(r, route.path, route.public):
                seen_pages.add(route.path)
    app.state.principal_resolver = real_resolver

    # the simulator, mounted: its pages (the login page from a real /login redirect) and files
    start = client.get("/login", follow_redirects=False)
    assert start.status_code == 302 and "/esia-sim/aas/oauth2/v2/ac" in start.headers["location"]
    login = client.get(start.headers["location"], follow_redirects=False)
    assert check(login, "/esia-sim/aas/oauth2/v2/ac", True) and "data-oid" in login.text
    for path in ("/esia-sim/", "/esia-sim/aas/oauth2/v2/ac", "/esia-sim/idp/ext/Logout"):
        if check(client.get(path, follow_redirects=False), path, True):
            seen_pages.add(path)
    for path in ("/esia-sim/static/simulator.css", "/esia-sim/public/cert.pem"):
        r = client.get(path)
        assert r.status_code == 200 and not check(r, path, True)

    # static files and the docs assets: nosniff, whatever their type
    for path in (
        "/static/site.css",
        "/static/cabinet.js",
        "/static/biometrics/exam.css",
        "/static/biometrics/exam_take.js",
        "/static/document.css",
        "/static/print.js",
        "/static/landing.css",
        "/docs/assets/propusk-docs.js",
    ):
        r = client.get(path)
        assert r.status_code == 200, path
        check(r, path, True)

    # a person's art. 14 answer, rendered from real data
    act_as_platform_admin(app, person_id)
    r = client.post("/api/v1/me/access-requests")
    assert r.status_code == 201, r.text
    check(r, "/api/v1/me/access-requests", False)
    page = client.get(f"/api/v1/access-requests/{r.json()['id']}.html")
    assert page.status_code == 200 and check(page, "/api/v1/access-requests/{id}.html", False)
    seen_pages.add("/api/v1/access-requests/{request_id}.html")
    app.state.principal_resolver = real_resolver

    assert seen_pages >= PAGES, PAGES - seen_pages


def test_the_docs_page_has_its_own_policy_and_the_rest_the_site_policy(client):
    docs = client.get("/docs").headers["content-security-policy"]
    site = client.get("/").headers["content-security-policy"]
    assert "img-src 'self' data:" in docs  # swagger-ui.css draws icons with data: SVGs
    assert "img-src 'self';" in site and "data:" not in site


def test_a_lane_answer_and_an_error_carry_the_headers(client, runtime):
    """The token fast lane answers before FastAPI; a 404 comes from the error handler."""
    from tests.idp.oidc.helpers import make_client

    client_id, secret = make_client(runtime, grant_types=["client_credentials"], redirect_uris=[])
    r = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert r.status_code == 200, r.text
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and check(r, "/api/v1/nothing-here", False) is False


def test_a_route_cannot_opt_a_page_out_of_the_policy(app, client):
    """A page that sets its own caching or framing headers still gets the site's."""
    from fastapi.responses import HTMLResponse

    @app.get("/test-page-with-own-headers", include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse(
            "<p>x</p>",
            headers={"Cache-Control": "public, max-age=3600", "X-Frame-Options": "ALLOWALL"},
        )

    r = client.get("/test-page-with-own-headers")
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
    assert r.headers.get_list("content-security-policy") == [r.headers["content-security-policy"]]
