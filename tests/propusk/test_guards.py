"""The JSON API's NUL guard: NUL in a query string or JSON body is a 400, not a database error."""

from __future__ import annotations

import pytest


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
