"""One deadline for all of a login's calls to ESIA (``idp/esia/deadline.py``), against real
sockets: a server that never answers and one that drips a byte at a time."""

from __future__ import annotations

import time

import httpx
import pytest

from idp.esia.deadline import DeadlineTransport, login_deadline
from tests.support.faults import DribblingPeer, SilentPeer


@pytest.fixture
def client():
    with httpx.Client(timeout=httpx.Timeout(10.0), transport=DeadlineTransport()) as c:
        yield c


def _timed(call) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except httpx.HTTPError as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


def test_a_read_wait_is_cut_to_the_time_left(client):
    peer = SilentPeer()
    try:
        with login_deadline(0.5):
            error, waited = _timed(lambda: client.get(peer.url + "/v3/te"))
    finally:
        peer.close()
    assert isinstance(error, httpx.ReadTimeout)  # → esia.timeout (idp/esia/errors.py)
    assert 0.5 <= waited < 2.0, waited  # not the client's 10 s


def test_a_dripping_answer_is_stopped_between_its_chunks(client):
    peer = DribblingPeer(interval=0.2)  # every read gets a byte long before 10 s
    try:
        with login_deadline(1.0):
            error, waited = _timed(lambda: client.get(peer.url + "/rs/prns/1"))
    finally:
        peer.close()
    assert isinstance(error, httpx.TimeoutException)
    assert 1.0 <= waited < 3.0, waited


def test_a_call_after_the_deadline_does_not_leave(client):
    peer = SilentPeer()
    try:
        with login_deadline(0.2):
            time.sleep(0.25)
            error, _ = _timed(lambda: client.get(peer.url + "/rs/prns/1/kids"))
        assert isinstance(error, httpx.ReadTimeout)
        assert not peer.accepted.wait(0.3)  # no connection was even opened
    finally:
        peer.close()


def test_outside_a_login_the_transport_is_plain(client):
    """No deadline set: the client's own timeouts, and an answer read in full."""
    peer = DribblingPeer(interval=0.05)
    try:
        with client.stream("GET", peer.url + "/public/cert.pem") as response:
            first = next(response.iter_bytes())
    finally:
        peer.close()
    assert response.status_code == 200 and first.startswith(b"{")


def test_each_login_has_its_own_deadline():
    """The end time lives in a context variable: nested or ended blocks restore the outer one."""
    from idp.esia.deadline import _END

    assert _END.get() is None
    with login_deadline(5.0):
        outer = _END.get()
        with login_deadline(None):
            assert _END.get() is None
        assert _END.get() == outer
    assert _END.get() is None
