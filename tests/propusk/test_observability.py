"""Request ids, JSON logs and /metrics (issue 16): ids echoed or made (never a malformed one),
carried in problem bodies and log lines; metrics labelled by route template, the lanes'
answers included; domain counters from committed audit events only; /metrics for a loopback
scraper (no proxy header) or a platform administrator, never for anyone else."""

from __future__ import annotations

import json
import logging
import re
import uuid

import httpx
import pytest

from propusk.observability import REQUEST_ID, JsonFormatter
from propusk.security import Principal, RoleGrant
from tests.idp.oidc.helpers import make_client


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = re.fullmatch(rf"{re.escape(name)}\{{(.*)\}} (\S+)", line)
        if match and ",".join(sorted(match.group(1).split(","))) == wanted:
            return float(match.group(2))
        if not labels and line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0


def _admin(app):
    """The test resolver stands for a platform administrator on Propusk's pages."""
    admin = Principal(
        kind="person",
        subject=f"person:{uuid.uuid4()}",
        person_id=uuid.uuid4(),
        roles=(RoleGrant("platform_admin", "*"),),
        channel="session",
    )
    app.state.principal_resolver = lambda request, session: admin


def test_a_well_formed_request_id_is_echoed_and_quoted_in_problems(client):
    rid = "lb-" + uuid.uuid4().hex
    answer = client.get("/api/v1/me", headers={"X-Request-ID": rid})
    assert answer.status_code == 401
    assert answer.headers["x-request-id"] == rid
    assert answer.json()["request_id"] == rid


@pytest.mark.parametrize("bad", ["short", "a" * 129, "<script>alert(1)</script>", "id with space"])
def test_a_malformed_request_id_is_replaced_never_echoed(client, bad):
    answer = client.get("/healthz", headers={"X-Request-ID": bad})
    made = answer.headers["x-request-id"]
    assert made != bad and re.fullmatch(r"[0-9a-f]{32}", made)


def test_each_request_gets_its_own_id_and_the_token_lane_too(client, runtime):
    ids = {client.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3
    client_id, secret = make_client(
        runtime, grant_types=["client_credentials"], redirect_uris=[], scopes=["consent.read"]
    )
    token = client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert token.status_code == 200 and token.headers["x-request-id"]


def test_metrics_are_refused_to_anyone_but_an_administrator_over_the_network(client, app):
    assert client.get("/metrics").status_code == 401  # TestClient's peer is not loopback
    person = Principal(
        kind="person",
        subject=f"person:{uuid.uuid4()}",
        person_id=uuid.uuid4(),
        roles=(RoleGrant("school_admin", f"school:{uuid.uuid4()}"),),
        channel="session",
    )
    app.state.principal_resolver = lambda request, session: person
    assert client.get("/metrics").status_code == 403
    _admin(app)
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")


def test_routes_are_labelled_by_template_and_lanes_by_their_route(client, app, runtime):
    _admin(app)
    before = client.get("/metrics").text
    consent_path = "/api/v1/consents/{consent_id}"
    missing = client.get(f"/api/v1/consents/{uuid.uuid4()}")
    client.get("/no/such/page")
    client_id, secret = make_client(
        runtime, grant_types=["client_credentials"], redirect_uris=[], scopes=["consent.read"]
    )
    client.post(
        "/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    after = client.get("/metrics").text
    name = "propusk_http_requests_total"

    def grew(route: str, status: str, method: str = "GET") -> bool:
        labels = {"route": route, "method": method, "status": status}
        return _sample(after, name, **labels) > _sample(before, name, **labels)

    assert grew(consent_path, str(missing.status_code))
    assert grew("<unmatched>", "404")
    assert grew("/oauth2/token", "200", "POST")
    assert "/api/v1/consents/" + "0" not in after  # no id ever becomes a label
    grant = {"grant": "client_credentials"}
    tokens = "propusk_tokens_issued_total"
    # the lane's token.issued events are buffered: counted when the buffer is written
    app.state.oidc.fast.audit.flush()
    assert _sample(client.get("/metrics").text, tokens, **grant) > _sample(before, tokens, **grant)


def test_database_gauges_are_read_at_scrape_time(client, app):
    _admin(app)
    text = client.get("/metrics").text
    assert "propusk_audit_outbox_events" in text
    assert "propusk_audit_tree_size" in text
    assert "propusk_obligations_overdue" in text
    assert _sample(text, "propusk_scrape_errors") == 0


def test_metrics_on_loopback_need_no_login_unless_a_proxy_forwarded_the_request(live_server):
    assert httpx.get(live_server.url + "/metrics").status_code == 200
    forwarded = {"X-Forwarded-For": "203.0.113.7"}
    assert httpx.get(live_server.url + "/metrics", headers=forwarded).status_code == 401
    assert (
        httpx.get(live_server.url + "/metrics", headers={"Forwarded": "for=1.2.3.4"}).status_code
        == 401
    )


def test_a_rolled_back_event_is_not_counted(runtime):
    from audit.service import record
    from propusk.observability import CONSENT_EVENTS

    kind = f"consent.test_{uuid.uuid4().hex[:6]}"
    session = runtime.sessionmaker()
    try:
        record(session, kind, actor="system")
        session.rollback()
        assert CONSENT_EVENTS.labels(kind)._value.get() == 0
        record(session, kind, actor="system")
        session.commit()
        assert CONSENT_EVENTS.labels(kind)._value.get() == 1
    finally:
        session.close()


def test_json_log_lines_carry_the_request_id():
    formatter = JsonFormatter()
    token = REQUEST_ID.set("req-12345678")
    try:
        record = logging.LogRecord("propusk", logging.WARNING, __file__, 1, "gate %s", ("x",), None)
        line = json.loads(formatter.format(record))
    finally:
        REQUEST_ID.reset(token)
    assert line["message"] == "gate x" and line["level"] == "WARNING"
    assert line["request_id"] == "req-12345678" and line["time"].endswith("Z")
