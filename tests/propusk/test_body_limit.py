"""Request bodies are limited before parsing and before authentication (``propusk.limits``).

Over a real server (uvicorn) and a raw socket, so that the request is exactly what a hostile
client sends: a ``Content-Length`` above the limit with no body at all, or a chunked body with
no ``Content-Length`` that is never finished. The answer is 413 as soon as the limit is passed
(an unfinished body could not have reached a route), problem+json on the API and an OAuth error
on ``/oauth2/``; the route never ran: no 401 from the policy, no token, no template.
"""

from __future__ import annotations

import base64
import json
import socket
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest

from tests.biometrics import photos
from tests.idp.oidc.helpers import make_client
from tests.support.servers import start_live_server

MIB = 1024 * 1024
DEFAULT = MIB  # Settings.max_body_bytes
CHUNK = 64 * 1024
PULL = f"/api/v1/subjects/{uuid.uuid4()}/data?purpose=attestation.online&categories=person.name"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


def raw_request(
    url: str,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Iterable[bytes] = (),
    *,
    chunked: bool = False,
) -> Answer:
    """Send a request byte by byte as given (``chunked``: each item is one chunk and the body
    is never terminated) and read one response by its ``Content-Length``."""
    parts = urlsplit(url)
    head = f"{method} {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if chunked:
        head += "Transfer-Encoding: chunked\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall((head + "\r\n").encode("latin-1"))
        for item in body:
            try:
                sock.sendall(f"{len(item):x}\r\n".encode() + item + b"\r\n" if chunked else item)
            except (BrokenPipeError, ConnectionResetError):
                break  # the server answered and closed: read what it said
        return _read_answer(sock)


def _read_answer(sock: socket.socket) -> Answer:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return Answer(status, headers, rest[:length])


def chunks(total: int, fill: bytes = b"x") -> Iterator[bytes]:
    """``total`` bytes in CHUNK-sized pieces."""
    sent = 0
    while sent < total:
        size = min(CHUNK, total - sent)
        yield fill * size
        sent += size


def assert_body_too_large(answer: Answer, *, oauth: bool = False) -> None:
    assert answer.status == 413, (answer.status, answer.body[:300])
    if oauth:
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["error"] == "invalid_request"
        assert answer.json()["error_description"]
    else:
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["type"].endswith("/body-too-large") and problem["status"] == 413
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.fixture
def server(db_url):
    server, rt = start_live_server(db_url)
    yield server, rt
    server.stop()
    rt.dispose()


@pytest.mark.parametrize(
    ("method", "path", "ctype", "oauth"),
    [
        ("POST", "/api/v1/schools", "application/json", False),
        ("POST", "/oauth2/token", "application/x-www-form-urlencoded", True),
        ("GET", PULL, "application/json", False),  # the gated pull lane's path
        ("POST", "/api/v1/biometrics/enrolments", "multipart/form-data; boundary=b", False),
    ],
)
def test_a_content_length_over_the_limit_is_refused_unread(server, method, path, ctype, oauth):
    """No byte of the body is sent: the answer can only come from the header."""
    url = server[0].url
    size = 64 * MIB  # above every limit, the upload routes' included
    headers = {"Content-Type": ctype, "Content-Length": str(size)}
    assert_body_too_large(raw_request(url, method, path, headers), oauth=oauth)


@pytest.mark.parametrize(
    ("method", "path", "ctype", "oauth"),
    [
        ("POST", "/api/v1/schools", "application/json", False),  # the route: 401 unread
        ("POST", "/oauth2/token", "application/x-www-form-urlencoded", True),  # token lane
        ("GET", PULL, "application/json", False),  # the gated pull lane, then a 401 route
        ("POST", "/login/esia/callback", "application/x-www-form-urlencoded", False),
    ],
)
def test_an_unfinished_chunked_body_is_refused_once_it_passes_the_limit(
    server, method, path, ctype, oauth
):
    url = server[0].url
    answer = raw_request(
        url, method, path, {"Content-Type": ctype}, chunks(DEFAULT + CHUNK), chunked=True
    )
    assert_body_too_large(answer, oauth=oauth)


def test_the_token_endpoint_never_sees_an_oversized_body(server):
    """A chunked token request with valid client credentials: within the limit it is replayed
    to the endpoint whole (a token), past the limit nothing reaches it (no token)."""
    url, rt = server[0].url, server[1]
    client_id, secret = make_client(rt, grant_types=["client_credentials"], redirect_uris=[])
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": "Basic " + basic,
    }
    form = b"grant_type=client_credentials&pad="
    small = raw_request(
        url, "POST", "/oauth2/token", headers, [form, b"p" * 1000, b""], chunked=True
    )
    assert small.status == 200, small.body
    assert small.json()["token_type"] == "Bearer"
    big = raw_request(
        url,
        "POST",
        "/oauth2/token",
        headers,
        [form, *chunks(DEFAULT, b"p")],
        chunked=True,
    )
    assert_body_too_large(big, oauth=True)
    assert "access_token" not in big.json()


def _multipart(boundary: str, photo: bytes, padding: int) -> list[bytes]:
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="photos"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    pad = (
        f"\r\n--{boundary}\r\n"
        'Content-Disposition: form-data; name="padding"; filename="pad.bin"\r\n\r\n'
    ).encode()
    return [head + photo + pad, *chunks(padding), f"\r\n--{boundary}--\r\n".encode()]


def test_upload_routes_have_their_own_larger_limit(server):
    """Enrolment takes up to three 8 MiB photos: a 2 MiB chunked multipart body reaches the
    route (401 here, anonymous), a body past the enrolment limit does not."""
    url = server[0].url
    boundary = "propusk" + uuid.uuid4().hex
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    photo = photos.raw("obama/obama_1.jpg")
    path = "/api/v1/biometrics/enrolments"
    within = raw_request(
        url, "POST", path, headers, [*_multipart(boundary, photo, 2 * MIB), b""], chunked=True
    )
    assert within.status == 401, within.body[:500]
    beyond = raw_request(
        url, "POST", path, headers, _multipart(boundary, photo, 26 * MIB), chunked=True
    )
    assert_body_too_large(beyond)


def test_the_roster_import_has_its_own_limit(server):
    """A 2 MiB roster is above the default limit and within the roster's (5 MiB of CSV): it
    reaches the route (401 here, anonymous); 7 MiB does not."""
    url = server[0].url
    path = f"/api/v1/schools/{uuid.uuid4()}/roster"
    headers = {"Content-Type": "text/csv"}
    within = raw_request(url, "POST", path, headers, [*chunks(2 * MIB), b""], chunked=True)
    assert within.status == 401, within.body
    beyond = raw_request(url, "POST", path, headers, chunks(7 * MIB), chunked=True)
    assert_body_too_large(beyond)
