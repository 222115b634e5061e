"""The person's ESIA bearer token goes to ESIA's own origin only (``idp/esia/rest.py``).

A collection's elements may come as absolute URLs that the connector then fetches. Two real
HTTP servers: "ESIA" answers the kids collection with element URLs, and "elsewhere" records
every Authorization header it gets. Elements on ESIA's origin are fetched; an element on
another host, port or scheme, or with user info, fails the call before anything is sent."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from idp.esia.errors import EsiaError
from idp.esia.rest import EsiaRest


class _Server:
    """A real HTTP server in a thread; ``elements`` is what its kids collection lists, and
    ``seen`` the (path, Authorization) of each request."""

    def __init__(self) -> None:
        self.elements: list[str] = []
        self.seen: list[tuple[str, str | None]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.seen.append((self.path, self.headers.get("Authorization")))
                if self.path.split("?")[0] == "/rs/prns/1000/kids":
                    body = {"size": len(server.elements), "elements": server.elements}
                else:
                    body = {"oid": self.path.rsplit("/", 1)[-1], "firstName": "Артём"}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers():
    esia, elsewhere = _Server(), _Server()
    try:
        yield esia, elsewhere
    finally:
        esia.close()
        elsewhere.close()


def _rest(esia: _Server, http: httpx.Client) -> EsiaRest:
    return EsiaRest(esia.url, "person-token", http)


def test_elements_on_esias_origin_are_fetched_with_the_token(servers):
    esia, _ = servers
    esia.elements = [esia.url + "/rs/prns/1000/kids/7", esia.url + "/rs/prns/1000/kids/8"]
    with httpx.Client() as http:
        kids = _rest(esia, http).kids("1000")
    assert [k["oid"] for k in kids] == ["7", "8"]
    assert [auth for _, auth in esia.seen] == ["Bearer person-token"] * 3


@pytest.mark.parametrize(
    "element",
    [
        "{elsewhere}/rs/prns/1000/kids/7",  # another port on the same host
        "http://localhost:{esia_port}/rs/prns/1000/kids/7",  # another host name
        "https://127.0.0.1:{esia_port}/rs/prns/1000/kids/7",  # another scheme
        "http://user@127.0.0.1:{esia_port}/rs/prns/1000/kids/7",  # user info
        "http://[::1/rs",  # not a URL
    ],
)
def test_an_element_elsewhere_fails_the_call_and_gets_no_token(servers, element):
    esia, elsewhere = servers
    port = esia.url.rsplit(":", 1)[1]
    esia.elements = [
        esia.url + "/rs/prns/1000/kids/7",
        element.format(elsewhere=elsewhere.url, esia_port=port),
    ]
    with httpx.Client() as http, pytest.raises(EsiaError) as caught:
        _rest(esia, http).kids("1000")
    assert caught.value.code == "esia.bad_response"
    assert elsewhere.seen == []
    assert len(esia.seen) == 2  # the collection and the first (good) element, nothing more
