"""A browser over plain HTTP: log in through the ESIA simulator, answer Propusk's pages.

Used by the end-to-end tests (a live server with the simulator mounted): a relying party's code
flow with the consent screen, a person in the cabinet (login cookie + the CSRF headers Propusk's
pages send), the hosted signing page. Every step is what a browser does: follow redirects,
submit the page's own forms with their hidden fields, send ``Origin``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

CONSENT_FORM = 'action="/oauth2/authorize/decision"'
SCREEN = "/oauth2/authorize/consent?"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden inputs of the page's own forms, in ``<main>`` (the header's «Выйти» form
    carries ``confirm=1`` of the logout, which no form of the page's content submits)."""
    main = re.search(r"<main>(.*)</main>", page, re.S)
    page = main.group(1) if main else page
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)
    return {name: html.unescape(value) for name, value in pairs}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def choose_person(browser: httpx.Client, ac_url: str, oid: str) -> httpx.Response:
    """The simulator's Госуслуги page: pick a demo person; returns its redirect back."""
    page = browser.get(ac_url)
    assert page.status_code == 200, page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    rid = re.search(r'name="rid" value="([^"]+)"', page.text).group(1)
    r = browser.post(httpx.URL(ac_url).join(action), data={"rid": rid, "oid": oid})
    assert r.status_code in (302, 303), r.text
    return r


def to_screen(browser: httpx.Client, url: str, r: httpx.Response) -> httpx.Response:
    """Follow Propusk's redirect to its consent screen, if that is where ``r`` sends us."""
    location = r.headers.get("location", "")
    if r.status_code == 303 and location.startswith(SCREEN):
        return browser.get(url + location)
    return r


def answer_consent_screen(
    browser: httpx.Client, url: str, page: httpx.Response, decision: str = "allow"
) -> httpx.Response:
    """Submit the consent screen as the person would (its form, same origin)."""
    assert CONSENT_FORM in page.text, page.text
    fields = hidden_fields(page.text)
    fields["decision"] = decision
    return browser.post(
        url + "/oauth2/authorize/decision", data=fields, headers={"Origin": origin_of(url)}
    )


def authorize(
    browser: httpx.Client,
    url: str,
    client_id: str,
    redirect_uri: str,
    oid: str,
    scope: str,
    decision: str = "allow",
    **extra: str,
) -> tuple[dict[str, str], str]:
    """The code flow in a browser, through the simulator and the consent screen: (the
    redirect's query at the relying party, the PKCE verifier)."""
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    r = browser.get(url + "/oauth2/authorize?" + urlencode(params))
    if r.status_code in (302, 303) and "/esia-sim/" in r.headers["location"]:
        back = choose_person(browser, r.headers["location"], oid)
        r = browser.get(back.headers["location"])
    r = to_screen(browser, url, r)
    if r.status_code == 200 and CONSENT_FORM in r.text:
        r = answer_consent_screen(browser, url, r, decision)
    assert r.status_code in (302, 303), r.text
    location = r.headers["location"]
    assert location.startswith(redirect_uri), location
    return query_of(location), verifier


def rp_tokens(
    url: str, client_id: str, secret: str, redirect_uri: str, oid: str, scope: str
) -> dict:
    """A relying party's tokens for the person ``oid`` (the person allows on the screen)."""
    with httpx.Client(timeout=60) as browser:
        query, verifier = authorize(browser, url, client_id, redirect_uri, oid, scope)
    r = httpx.post(
        url + "/oauth2/token",
        auth=(client_id, secret),
        timeout=30,
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


def cabinet(url: str, oid: str, browser: httpx.Client | None = None) -> httpx.Client:
    """A browser logged in to Propusk's own pages as ``oid`` (``/login`` through the
    simulator), sending what the pages send with every state change: ``Origin`` and the
    session's CSRF token."""
    browser = browser or httpx.Client(base_url=url, timeout=60)
    login_fresh(browser, url, oid, "/cabinet")
    token = browser.get("/api/v1/session").json()["csrf_token"]
    browser.headers.update({"Origin": origin_of(url), "X-CSRF-Token": token})
    return browser


def login_fresh(browser: httpx.Client, url: str, oid: str, next_path: str, max_age=None):
    """``/login`` (optionally with ``max_age``) through the simulator; returns the last
    redirect (to ``next_path``)."""
    query = {"next": next_path}
    if max_age is not None:
        query["max_age"] = str(max_age)
    r = browser.get(url + "/login?" + urlencode(query))
    assert r.status_code == 302, r.text
    if "/esia-sim/" in r.headers["location"]:
        back = choose_person(browser, r.headers["location"], oid)
        r = browser.get(back.headers["location"])
    assert r.status_code == 302 and r.headers["location"] == next_path, r.text
    return r


def sign_on_page(
    browser: httpx.Client, url: str, consent_id: str, decision: str = "sign", **query: str
) -> httpx.Response:
    """Open the hosted signing page and submit it (the browser's own form)."""
    page = browser.get(f"{url}/sign/{consent_id}" + (f"?{urlencode(query)}" if query else ""))
    assert page.status_code == 200, page.text
    fields = hidden_fields(page.text)
    fields["decision"] = decision
    if decision == "sign":
        fields["read"] = "1"  # the «Я прочитал(а) документ» box, required to sign
    return browser.post(f"{url}/sign/{consent_id}", data=fields, headers={"Origin": origin_of(url)})
