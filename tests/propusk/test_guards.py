"""The JSON API's NUL guard: NUL in a query string or JSON body is a 400, not a database error."""

from __future__ import annotations

import pytest

from tests.propusk.callers import act_as_platform_admin


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/api/v1/audit/proofs/inclusion?index=%00", {}),
        ("POST", "/api/v1/schools", {"json": {"ogrn": "1027700132195", "name": "a\x00b"}}),
        (
            "POST",
            "/api/v1/schools",
            {"content": b'{"name": "\\u0000"}', "headers": {"content-type": "application/json"}},
        ),
    ],
)
def test_nul_is_refused_as_problem_json(client, method, path, kwargs):
    r = client.request(method, path, **kwargs)
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/nul-character")


def test_protocol_endpoints_keep_their_own_error_shapes(client):
    # OAuth endpoints answer OAuth errors themselves (the guard covers /api/ only)
    r = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials", "client_id": "a\x00"}
    )
    assert r.status_code in (400, 401)
    assert r.json()["error"] == "invalid_client"


def test_escaped_backslash_u0000_text_passes(client):
    # the text "\u0000" (backslash, u, zeros) is not a NUL: the route decides (here 401)
    r = client.post(
        "/api/v1/schools",
        content=b'{"name": "\\\\u0000"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 401


def test_binary_uploads_are_not_scanned(client):
    r = client.post(
        "/api/v1/biometrics/enrolments",
        files={"photos": ("a.png", b"\x89PNG\x00\x00\x00", "image/png")},
    )
    assert r.status_code == 401  # reaches the route (anonymous), not the guard


# -- deeply nested JSON: a 4xx, never a RecursionError (500) ----------------------------------

DEEP = (100_000, 500, 65)  # past the parser's recursion limit, past a Python walk's, past the cap


def _nested(depth: int, inner: bytes) -> bytes:
    return b"[" * depth + inner + b"]" * depth


ROUTES = [
    ("POST", "/api/v1/schools", "name"),  # idp
    ("POST", "/api/v1/policy/rules", None),  # policies: the body itself is the nest
    ("PUT", "/api/v1/consent/catalogue", "categories"),  # consent
    (
        "PUT",
        "/api/v1/subjects/00000000-0000-4000-8000-000000000000/data/person.name",
        "value",
    ),  # vault: any JSON
    ("POST", "/api/v1/exams/sessions", "takers"),  # biometrics
]


@pytest.mark.parametrize("authenticated", [False, True], ids=["anonymous", "admin"])
@pytest.mark.parametrize("inner", [b'"\\u0000"', b'"a"'], ids=["nul", "text"])
@pytest.mark.parametrize("depth", DEEP)
@pytest.mark.parametrize(("method", "path", "field"), ROUTES, ids=[r[1] for r in ROUTES])
def test_deeply_nested_json_is_a_4xx_problem(
    app, client, method, path, field, depth, inner, authenticated
):
    if authenticated:
        act_as_platform_admin(app)
    body = _nested(depth, inner)
    if field:
        body = b'{"' + field.encode() + b'": ' + body + b"}"
    r = client.request(method, path, content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400, r.text[:300]
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["type"].endswith("/json-too-deep")


def test_nesting_within_the_cap_is_judged_as_before(client):
    """Up to 64 levels (the object and 63 arrays) the guard only looks for NUL; the route
    judges the rest."""
    r = client.post(
        "/api/v1/schools",
        content=b'{"name": ' + _nested(63, b'"\\u0000"') + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["type"].endswith("/nul-character")
    r = client.post(
        "/api/v1/schools",
        content=b'{"name": ' + _nested(63, b'"a"') + b"}",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 401  # reaches the route, whose policy answers


def test_brackets_inside_strings_do_not_count_as_nesting(client):
    text = ("[" * 5000 + "{" * 5000).encode()
    r = client.post(
        "/api/v1/schools",
        content=b'{"name": "' + text + b'"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 401


def test_the_edge_refusals_quote_the_request_id(client):
    """The guard's 400 and the body limit's 413 are problems like the routes': they quote the
    request id the caller sent (found by the API fuzzer: they had none)."""
    rid = {"X-Request-ID": "support-case-4711"}
    nul = client.get("/api/v1/audit/proofs/inclusion?index=%00", headers=rid)
    assert nul.status_code == 400 and nul.json()["request_id"] == "support-case-4711"
    big = client.post(
        "/api/v1/schools",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={**rid, "content-type": "application/json"},
    )
    assert big.status_code == 413 and big.json()["request_id"] == "support-case-4711"
    assert big.headers["x-request-id"] == "support-case-4711"
