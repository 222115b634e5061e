"""Service settings (environment variables with the ``PROPUSK_`` prefix).

Development defaults make ``make run`` work with nothing configured; ``check_production``
refuses to start a production instance that still carries any of them.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from propusk.ratelimit import parse_rule

DEV_KEK = base64.urlsafe_b64encode(b"propusk-development-kek-32bytes!").decode()
DEV_SESSION_SECRET = "propusk-development-session-secret"
DEFAULT_SQLITE_URL = "sqlite:///./var/propusk.db"
DEMO_OPERATOR_INN = "7700000009"  # the demonstration operator's ИНН: production sets its own


class Settings(BaseSettings):
    """All tunables of one Propusk instance."""

    model_config = SettingsConfigDict(env_prefix="PROPUSK_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_SQLITE_URL
    issuer: str = "http://127.0.0.1:8000"
    # 32-byte AES key (urlsafe base64) that wraps every secret stored in the database.
    kek: str = DEV_KEK
    session_secret: str = DEV_SESSION_SECRET
    redis_url: str | None = None
    # prefix of every Redis key of this deployment (several deployments may share one Redis)
    redis_prefix: str = "propusk:"
    log_level: str = "INFO"
    # "json": one JSON object per line with the request id (propusk.observability), for a log
    # pipeline; "text": uvicorn's own lines, for a developer's terminal.
    log_format: Literal["json", "text"] = "json"
    # Largest request body, checked before authentication and parsing (propusk.limits); the
    # upload routes (roster import, biometric photos and frames) register larger ones.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    # Connections each process keeps to PostgreSQL (SQLAlchemy's pool): up to db_pool_size idle,
    # db_max_overflow more under load. Size max_connections (or PgBouncer's pool) for
    # processes x (db_pool_size + db_max_overflow) plus two listener connections per process.
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=20, ge=0, le=200)

    # OIDC
    access_token_ttl: int = 600
    id_token_ttl: int = 600
    refresh_token_ttl: int = 30 * 24 * 3600
    auth_code_ttl: int = 60
    login_session_ttl: int = 8 * 3600
    signing_alg: Literal["ES256", "RS256"] = "ES256"

    # Upstream login: "esia" (real ESIA), "simulator" (the bundled ESIA simulator),
    # "dev" (a development-only form; refused in production).
    upstream: Literal["esia", "simulator", "dev"] = "simulator"
    demo: bool = False

    # ESIA connector
    esia_env: Literal["test", "prod", "simulator"] = "simulator"
    esia_client_id: str = "PROPUSK"
    esia_key_path: Path | None = None
    esia_cert_path: Path | None = None
    esia_cert_hash: str | None = None
    esia_trusted_certs: list[Path] = Field(default_factory=list)
    esia_simulator_url: str | None = None  # defaults to {issuer}/esia-sim
    # Seconds to wait for ESIA (token exchange, certificate, REST): to open a connection, and
    # for each read or write after it. A login whose ESIA call runs out of either gets the page
    # «Госуслуги не отвечают» (503) instead of holding the person and a worker thread.
    esia_connect_timeout: float = Field(default=3.0, gt=0, le=60)
    esia_timeout: float = Field(default=10.0, gt=0, le=120)
    # Seconds for everything one login's callback asks ESIA (token exchange, certificate, every
    # REST call): the per-call timeouts above bound each step, this bounds their sum and an
    # answer dribbled a byte at a time (idp/esia/deadline.py).
    esia_login_deadline: float = Field(default=20.0, gt=0, le=300)
    esia_scope: str = (
        "openid fullname birthdate gender snils email mobile usr_org "
        "kid_fullname kid_birthdate kid_gender kid_snils"
    )
    # GOST arithmetic: "fast" (idp/esia/gostfast.py, ~10x faster; cross-checked against the
    # reference and OpenSSL's GOST engine) or "gostcrypto" (the pure-Python reference)
    esia_gost_backend: Literal["gostcrypto", "fast"] = "fast"

    # Written-form consents (special categories, biometrics, dissemination): the signer's ESIA
    # login may be at most this old (seconds); older → log in through ESIA again (step-up).
    step_up_max_age: int = Field(default=900, ge=30, le=24 * 3600)
    # Fonts of the signed-consent PDFs (DejaVu Sans: Debian package fonts-dejavu-core).
    pdf_font_dir: Path = Path("/usr/share/fonts/truetype/dejavu")

    # Consent: worker threads that group-commit gated pulls (consent/batcher.py); 0 turns the
    # pull fast lane off (every pull then runs in its own request transaction).
    consent_pull_workers: int = Field(default=2, ge=0, le=16)

    # Biometrics
    # Max encoding distance for "same person". 0.6 from the developer face set (docs/biometrics.md,
    # bench/bench_faces.py): genuine pairs <= 0.544, impostors >= 0.680 over photos and 640x480
    # frames; 0.6 keeps about equal margins to both. Re-check with `propusk biometrics evaluate`.
    face_threshold: float = 0.6
    frame_retention_days: int = 0
    # How often an exam taker's page sends a camera frame for the proctor once liveness passed.
    # At least 4 s: the server takes at most 20 frames a minute from one taker
    # (biometrics.checks.FRAMES_PER_MINUTE), and each costs a face analysis.
    exam_frame_interval_seconds: int = Field(15, ge=4, le=120)

    # The operator of the platform (152-FZ art. 18.1): who runs this instance, as the landing
    # page, the processing policy (/policy) and the art. 14 answers name it. The defaults are
    # demonstration details; production refuses to start with the demonstration ИНН.
    operator_name: str = "ГАУ «Региональный центр цифровой образовательной среды»"
    operator_short_name: str = "Центр ЦОС"
    operator_inn: str = DEMO_OPERATOR_INN
    operator_ogrn: str = "1027700000008"
    operator_address: str = "123456, г. Москва, ул. Образцовая, д. 1"
    operator_email: str = "pdn@propusk.example"
    operator_phone: str = "+7 (495) 000-00-00"
    # Number of the operator in Roskomnadzor's register of personal-data operators (art. 22).
    operator_rkn_number: str = "77-26-000001"
    # Who organises the processing of personal data (art. 22.1): name, position or contact.
    dpo_contact: str = "Отдел защиты персональных данных, pdn@propusk.example, +7 (495) 000-00-00"

    # Rate limits, "<events>/<seconds>" (propusk.ratelimit: GCRA, shared through Redis when
    # redis_url is set, else per process). Failed client authentications at the OAuth
    # endpoints: per client (answers a wrong-secret flood with 429, never locks the client's
    # right secret out) and per IP (refused before the check).
    rate_client_auth_failures: str = "20/60"
    rate_client_auth_failures_ip: str = "30/60"
    # Login starts per IP (each parks a transaction and costs an ESIA round trip). A school
    # behind one NAT logs in together at 9:00: the budget is a burst a scripted flood exceeds.
    rate_login_starts_ip: str = "600/60"
    # Consent decisions (sign, refuse, withdraw, suspend) per person: a parent of several
    # children answers a dozen requests in a minute; a script signing in a loop does not pass.
    rate_consent_decisions: str = "30/60"
    # Roster files per school (previews, applies and one-step imports together: an admin
    # fixing a file previews it a few times) and face photo uploads per person (enrolment).
    rate_roster_imports: str = "30/3600"
    rate_uploads: str = "20/3600"
    # Staff appointments by an operator's head (idp.staff_routes), per head: each one looks a
    # SNILS up and answers the person's name, so an unbounded loop would turn SNILS numbers
    # into names; a head onboarding a department stays well inside it.
    rate_staff_appointments: str = "60/3600"

    # Audit
    audit_checkpoint_every: int = 1
    # Who integrates the audit outbox into the Merkle log: a thread in every app process
    # ("thread"), or a separate `propusk audit sequence --follow` process ("external"), which
    # takes that work off the serving processes (the threads then only sign checkpoints).
    audit_sequencer: Literal["thread", "external"] = "thread"

    @model_validator(mode="after")
    def _rate_rules(self) -> Settings:
        """Every ``rate_*`` setting parses: a mistyped limit stops the start, not a request."""
        for name in type(self).model_fields:
            if name.startswith("rate_"):
                parse_rule(name, getattr(self, name))
        return self

    def check_production(self) -> None:
        """Refuse to run in production with development secrets or dev-only upstreams."""
        if self.env != "production":
            return
        problems = []
        if self.kek == DEV_KEK:
            problems.append("PROPUSK_KEK is the development key")
        if self.session_secret == DEV_SESSION_SECRET:
            problems.append("PROPUSK_SESSION_SECRET is the development secret")
        if self.upstream != "esia":
            problems.append("PROPUSK_UPSTREAM must be 'esia' in production")
        if self.demo:
            problems.append("PROPUSK_DEMO must be off in production")
        if self.database_url.startswith("sqlite"):
            problems.append("PROPUSK_DATABASE_URL must point to PostgreSQL in production")
        if not self.issuer.startswith("https://"):
            problems.append("PROPUSK_ISSUER must be https in production")
        if self.operator_inn == DEMO_OPERATOR_INN:
            problems.append("PROPUSK_OPERATOR_* must name the real operator in production")
        if problems:
            raise RuntimeError("refusing to start in production: " + "; ".join(problems))

    @property
    def kek_bytes(self) -> bytes:
        key = base64.urlsafe_b64decode(self.kek + "=" * (-len(self.kek) % 4))
        if len(key) != 32:
            raise ValueError("PROPUSK_KEK must be 32 bytes, urlsafe base64")
        return key

    @property
    def esia_sim_base(self) -> str:
        return self.esia_simulator_url or self.issuer.rstrip("/") + "/esia-sim"


@lru_cache
def get_settings() -> Settings:
    return Settings()
