"""client_credentials tokens/s: one Propusk process vs node-oidc-provider, same wrk settings.

Both issue ES256-signed JWT access tokens for `grant_type=client_credentials` with
`client_secret_post`. The servers are measured back to back, alternating, ROUNDS times; the
medians and their ratio are printed. Each server's token is checked once before measuring.
CPU milliseconds per token of the Propusk process (and of node's, printed) over the measured
runs; p99 is wrk's (``--latency``), the median over rounds. Rows: ``bench/results/oidc_token.json``.

    .venv/bin/python bench/bench_oidc_token.py            # ROUNDS=3, 10 s per run
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import (
    ROOT,
    VENV_BIN,
    Results,
    TreeCPU,
    create_pg_database,
    free_port,
    median,
    post_script,
    wait_http,
    wrk,
    wrk_run,
)

ROUNDS = int(os.environ.get("ROUNDS", "3"))
SECONDS = int(os.environ.get("SECONDS_PER_RUN", "10"))
PEER_DIR = ROOT / "bench" / "peer"
PEER_BODY = (
    "grant_type=client_credentials&client_id=bench"
    "&client_secret=bench-secret-bench-secret-bench-secret&scope=read"
)


def start_peer() -> tuple[subprocess.Popen, str]:
    subprocess.run(["bash", str(ROOT / "bench" / "peer_setup.sh")], check=True)
    jwk = subprocess.run(
        [
            "node",
            "-e",
            "const {generateKeyPairSync}=require('crypto');"
            "const {privateKey}=generateKeyPairSync('ec',{namedCurve:'P-256'});"
            "const j=privateKey.export({format:'jwk'});j.alg='ES256';j.use='sig';j.kid='k1';"
            "console.log(JSON.stringify(j))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = dict(os.environ, JWK=jwk, NODE_ENV="production")
    proc = subprocess.Popen(
        ["node", "server.mjs"],
        cwd=PEER_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_http("http://127.0.0.1:3000/.well-known/openid-configuration")
    return proc, "http://127.0.0.1:3000/token"


def start_propusk(db_url: str) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    env = dict(
        os.environ,
        PROPUSK_DATABASE_URL=db_url,
        PROPUSK_ISSUER=f"http://127.0.0.1:{port}",
        PROPUSK_ENV="development",
    )
    created = subprocess.run(
        [
            str(VENV_BIN / "propusk"),
            "clients",
            "create",
            "--name",
            "bench",
            "--grant",
            "client_credentials",
            "--auth-method",
            "client_secret_post",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    client = json.loads(created)
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "propusk"),
            "serve",
            "--port",
            str(port),
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    wait_http(base + "/healthz")
    body = (
        f"grant_type=client_credentials&client_id={client['client_id']}"
        f"&client_secret={client['client_secret']}"
    )
    return proc, base + "/oauth2/token", body


def check_token(url: str, body: str) -> None:
    r = httpx.post(url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    r.raise_for_status()
    token = r.json()["access_token"]
    header = json.loads(_b64(token.split(".")[0]))
    assert header["alg"] == "ES256", header


def _b64(s: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> None:
    results = Results("oidc_token")
    db_url, drop = create_pg_database()
    peer, peer_url = start_peer()
    propusk, url, body = start_propusk(db_url)
    runs: dict[str, list] = {"peer": [], "ours": []}
    cpu = {"peer": 0.0, "ours": 0.0}
    try:
        check_token(peer_url, PEER_BODY)
        check_token(url, body)
        # warm-up (JIT on node, caches on both)
        wrk(peer_url, PEER_BODY, seconds=2)
        wrk(url, body, seconds=2)
        for i in range(ROUNDS):
            for who, proc, target, form in (
                ("peer", peer, peer_url, PEER_BODY),
                ("ours", propusk, url, body),
            ):
                clock = TreeCPU(proc.pid).start()
                run = wrk_run(target, post_script(form), seconds=SECONDS)
                cpu[who] += clock.stop()
                runs[who].append(run)
            print(
                f"round {i + 1}: peer {runs['peer'][-1].rate:.0f} req/s, "
                f"propusk {runs['ours'][-1].rate:.0f} req/s"
            )
            time.sleep(1)
    finally:
        stop(propusk)
        stop(peer)
        drop()
    per_op = {k: cpu[k] * 1e3 / sum(r.requests for r in runs[k]) for k in runs}
    p, o = median([r.rate for r in runs["peer"]]), median([r.rate for r in runs["ours"]])
    print(
        f"client_credentials (wrk -t1 -c16 -d{SECONDS}s, {ROUNDS} rounds, medians): "
        f"node-oidc-provider {p:.0f} req/s, propusk {o:.0f} req/s, ratio {o / p:.2f}x; "
        f"CPU per token: propusk {per_op['ours']:.2f} ms, node {per_op['peer']:.2f} ms"
    )
    results.add(
        "client_credentials token (ES256 JWT), one process, wrk -c16",
        "req/s",
        rounds=[r.rate for r in runs["ours"]],
        p99=median([r.p99 for r in runs["ours"]]),
        peer="node-oidc-provider 9 (one node process)",
        peer_rounds=[r.rate for r in runs["peer"]],
        cpu_ms_per_op=per_op["ours"],
        note=f"peer CPU {per_op['peer']:.2f} ms/token",
    )
    results.write()


if __name__ == "__main__":
    main()
