"""OIDC flows of one Propusk process (PostgreSQL, loopback): what a login and a refresh cost.

Measured against a real ``uvicorn`` subprocess with the development upstream:
- full authorization code flow with PKCE (authorize → dev login form → consent screen → code →
  token), sequential;
- refresh token rotation, sequential;
- ``private_key_jwt`` client_credentials (Authlib path: assertion, jti replay row), sequential;
- bearer token verification: ``GET /oauth2/userinfo`` with wrk (16 connections).
Prints medians (latency in ms, throughput in req/s) and the server process's CPU milliseconds
per operation; rows in ``bench/results/oidc_flows.json``.

    .venv/bin/python bench/bench_oidc_flows.py          # N=60 flows, 5 s of wrk
    N=200 SECONDS_PER_RUN=10 .venv/bin/python bench/bench_oidc_flows.py
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (
    VENV_BIN,
    Results,
    TreeCPU,
    create_pg_database,
    free_port,
    wait_http,
    wrk_run,
)

N = int(os.environ.get("N", "60"))
SECONDS = int(os.environ.get("SECONDS_PER_RUN", "5"))
REDIRECT = "https://rp.example/cb"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def start(db_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = dict(
        os.environ,
        PROPUSK_DATABASE_URL=db_url,
        PROPUSK_ISSUER=f"http://127.0.0.1:{port}",
        PROPUSK_ENV="development",
        PROPUSK_UPSTREAM="dev",
    )
    proc = subprocess.Popen(
        [str(VENV_BIN / "propusk"), "serve", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz")
    return proc, base


def cli(db_url: str, *args: str) -> dict:
    env = dict(os.environ, PROPUSK_DATABASE_URL=db_url, PROPUSK_ENV="development")
    out = subprocess.run(
        [str(VENV_BIN / "propusk"), *args], env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


def code_flow(http: httpx.Client, base: str, client: dict) -> dict:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    params = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": REDIRECT,
        "scope": "openid profile email offline_access",
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    http.cookies.clear()
    page = http.get(base + "/oauth2/authorize?" + urlencode(params))
    txn = re.search(r'name="txn" value="([^"]+)"', page.text).group(1)
    back = http.post(
        base + "/login/dev/callback",
        data={
            "txn": txn,
            "oid": str(secrets.randbelow(10**11)),
            "last_name": "Тестов",
            "first_name": "Тест",
        },
    )
    if back.status_code == 303:  # the consent screen: a new person allows the client
        screen = http.get(base + back.headers["location"])
        fields = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', screen.text)
        )
        back = http.post(
            base + "/oauth2/authorize/decision",
            data={**fields, "decision": "allow"},
            headers={"Origin": base},
        )
    code = parse_qs(urlsplit(back.headers["location"]).query)["code"][0]
    r = http.post(
        base + "/oauth2/token",
        auth=(client["client_id"], client["client_secret"]),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    r.raise_for_status()
    return r.json()


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def wrk_get(url: str, token: str, seconds: int):
    script = f'wrk.headers["Authorization"] = "Bearer {token}"\n'
    return wrk_run(url, script, seconds=seconds)


def main() -> None:
    from joserfc import jwt

    results = Results("oidc_flows")
    cpu: dict[str, float] = {}
    from joserfc.jwk import ECKey

    db_url, drop = create_pg_database("propusk_bench_flows")
    key = ECKey.generate_key("P-256", private=True)
    rp = cli(
        db_url,
        "clients",
        "create",
        "--name",
        "rp",
        "--grant",
        "authorization_code",
        "--grant",
        "refresh_token",
        "--redirect-uri",
        REDIRECT,
    )
    pk = cli(
        db_url,
        "clients",
        "create",
        "--name",
        "pk",
        "--grant",
        "client_credentials",
        "--auth-method",
        "private_key_jwt",
        "--jwks",
        json.dumps({"keys": [key.as_dict(private=False)]}),
    )
    proc, base = start(db_url)
    try:
        with httpx.Client(timeout=30) as http:
            code_flow(http, base, rp)  # warm-up
            clock = TreeCPU(proc.pid).start()
            flows = timed(lambda: code_flow(http, base, rp), N)
            cpu["flow"] = clock.stop()
            tokens = code_flow(http, base, rp)

            def refresh() -> None:
                r = http.post(
                    base + "/oauth2/token",
                    auth=(rp["client_id"], rp["client_secret"]),
                    data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                )
                r.raise_for_status()
                tokens.update(r.json())

            clock.start()
            refreshes = timed(refresh, N)
            cpu["refresh"] = clock.stop()

            def assertion_token() -> None:
                now = int(time.time())
                claims = {
                    "iss": pk["client_id"],
                    "sub": pk["client_id"],
                    "aud": base + "/oauth2/token",
                    "iat": now,
                    "exp": now + 60,
                    "jti": secrets.token_urlsafe(12),
                }
                r = http.post(
                    base + "/oauth2/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_assertion_type": ASSERTION_TYPE,
                        "client_assertion": jwt.encode({"alg": "ES256"}, claims, key),
                    },
                )
                r.raise_for_status()

            clock.start()
            assertions = timed(assertion_token, N)
            cpu["assertion"] = clock.stop()
        wrk_get(base + "/oauth2/userinfo", tokens["access_token"], 1)  # warm-up
        clock.start()
        userinfo = wrk_get(base + "/oauth2/userinfo", tokens["access_token"], SECONDS)
        cpu["userinfo"] = clock.stop()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)
        drop()
    med = statistics.median
    ms = {k: v * 1e3 / N for k, v in cpu.items()}
    ms["userinfo"] = cpu["userinfo"] * 1e3 / userinfo.requests
    print(
        f"code flow + PKCE (authorize, dev login, token; n={N}): median {med(flows):.1f} ms, "
        f"server CPU {ms['flow']:.2f} ms/flow"
    )
    print(
        f"refresh token rotation (n={N}): median {med(refreshes):.1f} ms, "
        f"server CPU {ms['refresh']:.2f} ms"
    )
    print(
        f"private_key_jwt client_credentials (n={N}): median {med(assertions):.1f} ms, "
        f"server CPU {ms['assertion']:.2f} ms"
    )
    print(
        f"userinfo with bearer verification (wrk -c16 -d{SECONDS}s): {userinfo.rate:.0f} req/s, "
        f"p99 {userinfo.p99:.1f} ms, server CPU {ms['userinfo']:.2f} ms/request"
    )
    for label, samples, key in (
        ("code flow + PKCE (authorize, dev login, consent, token), sequential", flows, "flow"),
        ("refresh token rotation, sequential", refreshes, "refresh"),
        ("private_key_jwt client_credentials, sequential", assertions, "assertion"),
    ):
        results.add(
            label,
            "ms",
            better="lower",
            median=med(samples),
            latencies_ms=samples,
            cpu_ms_per_op=ms[key],
        )
    results.add(
        "userinfo (bearer verification), one process, wrk -c16",
        "req/s",
        median=userinfo.rate,
        p99=userinfo.p99,
        cpu_ms_per_op=ms["userinfo"],
    )
    results.write()


if __name__ == "__main__":
    main()
