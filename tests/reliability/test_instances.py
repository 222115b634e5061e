"""More than one instance (issue 16), as real processes on one PostgreSQL and one Redis.

Instance A is ``propusk serve --workers 2``, instance B a separately started ``propusk serve``:
three interpreters with their own caches, sequencer threads, pull batchers, policy engines and
limiters. Both start together on one fresh database, as a deployment does. What one instance
did, the other must honour: a used refresh token, a used client assertion, a policy change, a
rate-limit budget, a withdrawal; their audit writes make one tree; and A's ``/metrics`` counts
every worker's requests. The processes are started once for the module (the tests run in order
on one xdist worker: ``xdist_group``); each test makes its own clients and people.
"""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from joserfc import jwt
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from consent import parties, vault
from consent.parties import register_organization
from idp.oidc import token_store
from propusk.db import session_scope, utcnow
from propusk.observability import MULTIPROCESS_ENV
from propusk.runtime import build_runtime
from tests.idp.oidc.helpers import assertion_client, make_client, org_client
from tests.reliability.cluster import (
    Cluster,
    call,
    client_token,
    converge,
    page_login,
    person,
    platform_admin,
    scalar,
)
from tests.support.consent_world import given_consent, operator_with_template, org_fields, relate
from tests.support.processes import CLI, ServerProcess, process_env, start_together
from tests.support.servers import free_port
from tests.support.settings import make_settings

pytestmark = pytest.mark.xdist_group("instances")

REDIS_URL = "redis://127.0.0.1:6379/0"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PURPOSE, CATEGORIES = "attestation.online", "person.fullname"
FIGURES: dict[str, float] = {}  # convergence times measured here (printed at the end)


@pytest.fixture(scope="module")
def cluster(pg_admin, pg_template, tmp_path_factory):
    name = f"propusk_mi_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"'))
    url = pg_admin.url.set(database=name).render_as_string(hide_password=False)
    port_a = free_port()
    issuer = f"http://127.0.0.1:{port_a}"  # the balancer's address, one for both
    prefix = f"test-mi-{uuid.uuid4().hex[:10]}:"
    settings = {
        "issuer": issuer,
        "redis_url": REDIS_URL,
        "redis_prefix": prefix,
        "rate_client_auth_failures": "3/60",  # per client; the tests' clients are their own
        "db_pool_size": 3,  # three server processes beside the suite's (max_connections)
    }
    logs = tmp_path_factory.mktemp("instances")
    a = ServerProcess(url, logs, workers=2, port=port_a, name="a", **settings)
    b = ServerProcess(url, logs, name="b", **settings)
    rt = build_runtime(make_settings(url, issuer=issuer))
    start_together(a, b)
    try:
        yield Cluster(a, b, rt, url, issuer, prefix)
    finally:
        metrics_dirs = [a.worker_environ(pid).get(MULTIPROCESS_ENV) for pid in a.worker_pids()]
        with ThreadPoolExecutor(2) as pool:  # graceful stops, side by side
            list(pool.map(ServerProcess.stop, (a, b)))
        rt.dispose()
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        print("\nmulti-instance figures:", {k: round(v, 3) for k, v in FIGURES.items()})
        # the workers' shared metrics directory does not outlive the server
        assert metrics_dirs and not any(d and Path(d).exists() for d in metrics_dirs)


# -- /metrics across the workers of one instance ----------------------------------------------


def _requests_counted(url: str, route: str) -> float:
    scrape = httpx.get(url + "/metrics", timeout=30)  # a new connection: any worker answers
    assert scrape.status_code == 200, scrape.text
    total = 0.0
    for family in text_string_to_metric_families(scrape.text):
        for sample in family.samples:
            if sample.name == "propusk_http_requests_total" and sample.labels["route"] == route:
                total += sample.value
    return total


def _served_by_worker(path: Path, workers: list[int], route: str) -> dict[int, float]:
    """Requests of ``route`` each worker counted, from its own file in the shared directory."""
    served = {}
    for pid in workers:
        own = path / f"counter_{pid}.db"
        metrics = MultiProcessCollector.merge([str(own)]) if own.exists() else []
        served[pid] = sum(
            s.value
            for m in metrics
            for s in m.samples
            if s.name == "propusk_http_requests_total" and s.labels.get("route") == route
        )
    return served


def test_metrics_sum_the_requests_of_every_worker(cluster):
    a = cluster.a
    workers = a.worker_pids()
    assert len(workers) == 2
    directory = {a.worker_environ(pid)[MULTIPROCESS_ENV] for pid in workers}
    assert len(directory) == 1  # one directory for the instance's workers
    path = Path(directory.pop())
    assert path.stat().st_mode & 0o077 == 0  # private to the service's user

    # requests on fresh connections until both workers have served some (the kernel hands a
    # connection to whichever worker accepts first; else the test would prove nothing)
    sent, served = 0, {}
    for _ in range(10):
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _: httpx.get(a.url + "/readyz").status_code, range(60)))
        assert answers == [200] * 60
        sent += 60
        served = _served_by_worker(path, workers, "/readyz")
        if all(served.values()):
            break
    assert sum(served.values()) == sent and all(served.values()), served

    # whichever worker answers the scrape, it counts all of them
    assert {_requests_counted(a.url, "/readyz") for _ in range(6)} == {float(sent)}
    assert "propusk_audit_tree_size" in httpx.get(a.url + "/metrics").text  # the DB gauges too


# -- OAuth: refresh tokens and client assertions ------------------------------------------------


def _refresh_family(rt) -> tuple[tuple[str, str], str, uuid.UUID, uuid.UUID]:
    """A client, a person's refresh token, the grant (token family) it belongs to and the
    person, stored as the authorization code exchange stores them."""
    client = make_client(rt, grant_types=["authorization_code", "refresh_token"])
    person_id, _ = person(rt)
    refresh = secrets.token_urlsafe(32)
    with session_scope(rt.sessionmaker) as session:
        grant = token_store.create_grant(
            session,
            client_id=client[0],
            person_id=person_id,
            scope="openid profile offline_access",
            auth_time=utcnow(),
            amr=["pwd"],
            session_hash=None,
        )
        session.flush()
        token_store.record_token(
            session,
            kind="refresh",
            secret=refresh,
            grant_id=grant.id,
            client_id=client[0],
            scope="openid profile offline_access",
            ttl=3600,
        )
        return client, refresh, grant.id, person_id


def _refresh(url: str, client: tuple[str, str], token: str) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token}
    return httpx.post(url + "/oauth2/token", data=data, auth=client, timeout=30)


def test_a_refresh_token_used_on_one_instance_is_reuse_on_the_other(cluster):
    client, old, grant_id, person_id = _refresh_family(cluster.rt)
    first = _refresh(cluster.a.url, client, old)
    assert first.status_code == 200, first.text
    rotated = first.json()["refresh_token"]
    assert rotated != old

    reused = _refresh(cluster.b.url, client, old)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant", reused.text
    # the family is revoked, as on one instance: the rotated token is dead on both
    for url in (cluster.b.url, cluster.a.url):
        assert _refresh(url, client, rotated).json()["error"] == "invalid_grant"
    assert scalar(
        cluster.rt, "SELECT revoked_at IS NOT NULL FROM oidc_grant WHERE id = :g", g=grant_id
    )
    reuse_events = scalar(
        cluster.rt,
        "SELECT count(*) FROM audit_event WHERE event_type = 'token.refresh_reuse' "
        "AND subject = :s",
        s=f"person:{person_id}",
    )
    assert reuse_events == 1


def _with_assertion(url: str, client_id: str, assertion: str) -> httpx.Response:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "client_id": client_id,
    }
    return httpx.post(url + "/oauth2/token", data=data, timeout=30)


def test_a_client_assertion_is_used_once_across_instances(cluster):
    client_id, key = assertion_client(cluster.rt)
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": cluster.issuer + "/oauth2/token",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(12),
    }
    assertion = jwt.encode({"alg": "ES256", "kid": "k1"}, claims, key)
    assert _with_assertion(cluster.a.url, client_id, assertion).status_code == 200
    replay = _with_assertion(cluster.b.url, client_id, assertion)
    assert replay.status_code in (400, 401), replay.text
    assert replay.json()["error"] == "invalid_client"
    # A's other worker, too
    assert _with_assertion(cluster.a.url, client_id, assertion).json()["error"] == "invalid_client"
    fresh = jwt.encode({"alg": "ES256"}, {**claims, "jti": secrets.token_urlsafe(12)}, key)
    assert _with_assertion(cluster.b.url, client_id, fresh).status_code == 200


# -- policy, rate limits ------------------------------------------------------------------------


def test_a_policy_change_on_one_instance_converges_on_the_other(cluster):
    """An operator client may not read the policy; a platform administrator adds a rule on A
    that lets it, then removes it: B's (and A's other worker's) enforced decision follows."""
    admin = platform_admin(cluster.rt, cluster.issuer)
    with session_scope(cluster.rt.sessionmaker) as session:
        org = register_organization(session, org_fields(name="ООО Правило"), actor="test")
        row, secret = org_client(session, org.id, prefix="policy")
        client = (row.client_id, secret)
    bearer = client_token(cluster.b.url, client)

    def status_on(url: str) -> int:
        return httpx.get(url + "/api/v1/policy", headers=bearer, timeout=30).status_code

    assert status_on(cluster.b.url) == status_on(cluster.a.url) == 403
    rule = {"role": "operator", "domain": "org:*", "object": "policy", "action": "read"}
    added = call(admin, "POST", cluster.a.url + "/api/v1/policy/rules", json=rule)
    assert added.status_code == 201, added.text
    FIGURES["policy_rule_added_s"] = converge(lambda: status_on(cluster.b.url) == 200)
    assert all(status_on(cluster.a.url) == 200 for _ in range(6))

    removed = call(admin, "DELETE", f"{cluster.a.url}/api/v1/policy/rules/{added.json()['id']}")
    assert removed.status_code == 204, removed.text
    FIGURES["policy_rule_removed_s"] = converge(lambda: status_on(cluster.b.url) == 403)
    assert all(status_on(cluster.a.url) == 403 for _ in range(6))


def test_rate_limits_are_one_budget_for_both_instances(cluster):
    client_id, secret = make_client(
        cluster.rt, grant_types=["client_credentials"], redirect_uris=[], scopes=["x"]
    )

    def token(url: str, password: str) -> httpx.Response:
        return httpx.post(
            url + "/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, password),
            timeout=30,
        )

    urls = (cluster.a.url, cluster.b.url, cluster.a.url)
    assert [token(url, "wrong").status_code for url in urls] == [401, 401, 401]
    for url in (cluster.b.url, cluster.a.url):  # the fourth failure, wherever it lands
        over = token(url, "wrong")
        assert over.status_code == 429 and over.json()["error"] == "temporarily_unavailable"
        assert int(over.headers["Retry-After"]) >= 1
    assert token(cluster.b.url, secret).status_code == 200  # the right secret still passes


def test_a_rotated_secret_is_current_on_the_other_instance_at_once(cluster):
    """The administrator rotates a client's secret on A; the client, behind the balancer, uses
    the new one at once and may land on B, whose token lane had the client cached (TTL 10 s):
    B must take the new secret and refuse the old one within the notification's latency, not
    the cache's TTL (``propusk.caches``: a change is announced to every instance)."""
    admin = platform_admin(cluster.rt, cluster.issuer)
    client_id, old = make_client(
        cluster.rt, grant_types=["client_credentials"], redirect_uris=[], scopes=["x"]
    )

    def status_on(url: str, secret: str) -> int:
        data = {"grant_type": "client_credentials"}
        return httpx.post(url + "/oauth2/token", data=data, auth=(client_id, secret)).status_code

    assert status_on(cluster.b.url, old) == 200  # B's lane holds the client now
    rotated = call(admin, "POST", f"{cluster.a.url}/api/v1/clients/{client_id}/secret")
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["client_secret"]
    # a deadline well under the cache's TTL; the step spares the failure budget of the IP
    FIGURES["client_secret_rotated_s"] = converge(
        lambda: status_on(cluster.b.url, new) == 200, deadline=4, step=0.1
    )
    assert status_on(cluster.b.url, old) == 401


def _kid(token_answer: httpx.Response) -> str:
    assert token_answer.status_code == 200, token_answer.text
    header = token_answer.json()["access_token"].split(".")[0]
    return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]


def test_a_key_rotation_on_one_instance_signs_on_the_other_at_once(cluster):
    """Keys rotated on A: B's token lane signs with the new key and B publishes it within the
    notification's latency, not the key cache's 30 s."""
    admin = platform_admin(cluster.rt, cluster.issuer)
    client = make_client(cluster.rt, grant_types=["client_credentials"], redirect_uris=[])

    def kid_on_b() -> str:
        data = {"grant_type": "client_credentials"}
        return _kid(httpx.post(cluster.b.url + "/oauth2/token", data=data, auth=client))

    old = kid_on_b()
    rotated = call(admin, "POST", cluster.a.url + "/api/v1/keys/rotate")
    assert rotated.status_code == 200, rotated.text
    current = set(rotated.json()["current"])
    assert old not in current
    FIGURES["signing_keys_rotated_s"] = converge(
        lambda: kid_on_b() in current, deadline=5, step=0.1
    )
    published = {k["kid"] for k in httpx.get(cluster.b.url + "/jwks.json").json()["keys"]}
    assert current | {old} <= published  # the old key keeps verifying what it signed


# -- the gated pull lane and the audit log ------------------------------------------------------


@pytest.fixture(scope="module")
def pull_world(cluster) -> dict:
    """An operator with a client and a template; a supplier (a school) holding a value for
    each of several subjects who gave the consent."""
    rt = cluster.rt
    org_id, tpl_id = operator_with_template(rt)
    with session_scope(rt.sessionmaker) as session:
        client, secret = org_client(session, org_id, prefix="mi-pulls")
        supplier = register_organization(session, org_fields("supplier", "Школа №7"), actor="t")
    subjects = {}
    for i in range(4):
        subject, consent_id = given_consent(rt, org_id, tpl_id, supplier_id=supplier.id)
        relate(rt, supplier.ogrn, supplier.name, subject)
        with session_scope(rt.sessionmaker) as session:
            holder = parties.get(session, supplier.id)
            now = utcnow() + timedelta(milliseconds=i)
            vault.put(
                session, rt.settings, holder, subject, CATEGORIES, f"Ученик {i}", actor="t", now=now
            )
        subjects[subject] = (consent_id, f"Ученик {i}")
    return {"client": (client.client_id, secret), "subjects": subjects}


def _pull(url: str, bearer: dict, subject: uuid.UUID) -> httpx.Response:
    query = f"purpose={PURPOSE}&categories={CATEGORIES}"
    return httpx.get(f"{url}/api/v1/subjects/{subject}/data?{query}", headers=bearer, timeout=60)


def test_a_withdrawal_on_one_instance_stops_pulls_on_the_other(cluster, pull_world):
    """Withdrawn on A through the cabinet's API, refused on B at once — and the concurrent
    pulls of both instances, batched by each one's lane, each get their own subject's answer."""
    bearers = {
        url: client_token(url, pull_world["client"]) for url in (cluster.a.url, cluster.b.url)
    }
    subjects = list(pull_world["subjects"])
    gone = subjects[0]
    for url, bearer in bearers.items():  # both lanes have verified the token and the operator
        assert _pull(url, bearer, gone).status_code == 200

    consent_id, _ = pull_world["subjects"][gone]
    owner = page_login(cluster.rt, gone, cluster.issuer)
    withdrawn = call(owner, "POST", f"{cluster.a.url}/api/v1/consents/{consent_id}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    refused = _pull(cluster.b.url, bearers[cluster.b.url], gone)  # right after, on the other
    assert refused.status_code == 403, refused.text
    assert refused.json()["refused"] == {CATEGORIES: "consent_withdrawn"}, refused.json()

    asks = [(url, s) for _ in range(6) for url in bearers for s in subjects]
    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda ask: _pull(ask[0], bearers[ask[0]], ask[1]), asks))
    for (_, subject), answer in zip(asks, answers, strict=True):  # each its own subject's
        if subject == gone:
            assert answer.status_code == 403, answer.text
            assert answer.json()["refused"] == {CATEGORIES: "consent_withdrawn"}
        else:
            assert answer.status_code == 200, answer.text
            consent, value = pull_world["subjects"][subject]
            assert answer.json()["data"] == {CATEGORIES: value}
            assert answer.json()["allowed_by"] == {CATEGORIES: str(consent)}


def _pending(rt) -> int:
    return scalar(rt, "SELECT count(*) FROM audit_pending")


def test_both_instances_write_one_audit_tree(cluster, pull_world):
    """Concurrent writes on both instances (gated pulls: the outbox; client tokens: the
    buffered, sequenced path), then both sequencers drain the outbox into one tree that
    ``propusk audit verify`` accepts, holding every event once."""
    rt = cluster.rt
    bearers = {
        url: client_token(url, pull_world["client"]) for url in (cluster.a.url, cluster.b.url)
    }
    kept = list(pull_world["subjects"])[1:]
    before = scalar(
        rt, "SELECT count(*) FROM audit_event WHERE event_type = 'gate.decision'"
    ) + scalar(rt, "SELECT count(*) FROM audit_pending WHERE event_type = 'gate.decision'")
    asks = [(url, s) for _ in range(6) for url in bearers for s in kept]

    def work(ask):
        url, subject = ask
        if subject == kept[0]:  # and now and then a token: a sequenced (locked) write
            client_token(url, pull_world["client"])
        return _pull(url, bearers[url], subject).status_code

    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(work, asks)) == {200}

    FIGURES["audit_outbox_drained_s"] = converge(lambda: _pending(rt) == 0, deadline=30)
    with rt.engine.connect() as conn:  # one statement, one snapshot
        tree, stored, distinct, first, last = conn.execute(
            text(
                "SELECT (SELECT size FROM audit_head), count(*), count(DISTINCT idx), "
                "min(idx), max(idx) FROM audit_event"
            )
        ).one()
    # the tree holds every stored event once, at positions 0..size-1
    assert (tree, distinct, first, last) == (stored, stored, 0, stored - 1)
    gate = scalar(rt, "SELECT count(*) FROM audit_event WHERE event_type = 'gate.decision'")
    assert gate - before == len(asks)

    env = process_env(cluster.database_url, free_port())
    verify = subprocess.run(
        [str(CLI), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    verified = int(verify.stdout.split("OK: ", 1)[1].split(" events", 1)[0])
    assert verified >= stored  # token events buffered by a lane may still have come in
