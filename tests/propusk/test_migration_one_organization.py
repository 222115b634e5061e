"""Migration 0015 keeps every organisation: the registry gets the consent organisation's legal
details (or the whole row, under the same id), consent keeps a profile that every template still
references, and a client named only by the consent row is bound to it — and back again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from propusk.db import make_engine
from propusk.migrate import downgrade, upgrade
from tests.support.settings import PG_URL

NOW = "2026-01-01 00:00:00+00:00"


@pytest.fixture(params=["sqlite", "postgres"])
def url(request, tmp_path) -> Iterator[str]:
    """An empty database (migrated by the test itself, step by step)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/m.db"
        return
    admin = request.getfixturevalue("pg_admin")
    name = f"propusk_m15_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _id(engine, value: uuid.UUID) -> object:
    """How the Uuid column stores an id (SQLite: 32 hex digits)."""
    return value.hex if engine.dialect.name == "sqlite" else value


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _seed(engine) -> dict[str, uuid.UUID]:
    """At 0014: one organisation in both registries, one only in consent's, a template."""
    both, only_consent = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO organization (id, esia_org_oid, ogrn, name, kind, created_at) "
                "VALUES (:id, '900100', '1027700132195', 'ООО Оператор', 'operator', :t)"
            ),
            {"id": _id(engine, both), "t": NOW},
        )
        for org_id, ogrn, kind, client in (
            (both, "1027700132195", "operator", None),
            (only_consent, "1037739010891", "supplier", "sup-client"),
        ):
            c.execute(
                text(
                    "INSERT INTO consent_organization (id, kind, name, inn, ogrn, address, "
                    "country, storage_country, storage_location, registry_number, client_id, "
                    "feed_pos, created_at) VALUES (:id, :kind, :name, '7707083893', :ogrn, "
                    "'Москва, ул. Тверская, 1', 'RU', 'RU', 'ЦОД Москва', '77-01-000001', "
                    ":client, 7, :t)"
                ),
                {
                    "id": _id(engine, org_id),
                    "kind": kind,
                    "name": f"ООО {kind}",
                    "ogrn": ogrn,
                    "client": client,
                    "t": NOW,
                },
            )
        c.execute(
            text(
                "INSERT INTO oidc_client (client_id, name, auth_method, id_token_alg, "
                "grant_types, redirect_uris, post_logout_redirect_uris, scopes, first_party, "
                "return_uris, resource_server_for, created_at, updated_at) VALUES "
                "('sup-client', 'Поставщик', 'client_secret_basic', 'ES256', '[]', '[]', '[]', "
                "'[]', false, '[]', '[]', :t, :t)"
            ),
            {"t": NOW},
        )
        c.execute(
            text(
                "INSERT INTO consent_purpose (key, title, legal_basis, dissemination) "
                "VALUES ('m.purpose', 'Цель', 'согласие', false)"
            )
        )
        c.execute(
            text(
                "INSERT INTO consent_template (id, operator_id, key, version, language, text, "
                "text_hash, purpose_key, categories, actions, processing_methods, term_days, "
                "withdrawal_method, form, request_ttl_days, published_at) VALUES (:id, :op, "
                "'t', 1, 'ru', 'текст', 'h', 'm.purpose', '[]', '[]', '[]', 30, 'заявление', "
                "'any', 30, :t)"
            ),
            {"id": _id(engine, uuid.uuid4()), "op": _id(engine, both), "t": NOW},
        )
    return {"both": both, "only_consent": only_consent}


def test_upgrade_moves_every_organisation_into_one_registry_and_back(url):
    upgrade(url, "0014")
    engine = make_engine(url)
    try:
        ids = _seed(engine)
        upgrade(url, "0015")
        with engine.connect() as c:
            registry = {_uuid(row.id): row for row in c.execute(text("SELECT * FROM organization"))}
            assert registry[ids["both"]].inn == "7707083893"
            assert registry[ids["both"]].esia_org_oid == "900100"
            added = registry[ids["only_consent"]]
            assert (added.kind, added.ogrn, added.address) == (
                "supplier",
                "1037739010891",
                "Москва, ул. Тверская, 1",
            )
            profiles = c.execute(
                text("SELECT feed_pos, registry_number FROM consent_organization_profile")
            ).all()
            assert sorted(profiles) == [(7, "77-01-000001")] * 2
            client = c.execute(
                text("SELECT organization_id, role FROM oidc_client WHERE client_id='sup-client'")
            ).one()
            assert _uuid(client.organization_id) == ids["only_consent"]
            assert client.role == "supplier"
            template = c.execute(text("SELECT operator_id FROM consent_template")).scalar_one()
            assert _uuid(template) == ids["both"]
        downgrade(url, "0014")
        with engine.connect() as c:
            back = c.execute(
                text("SELECT name, inn, client_id FROM consent_organization ORDER BY kind")
            ).all()
            assert back == [
                ("ООО Оператор", "7707083893", None),  # the registry's name wins
                ("ООО supplier", "7707083893", "sup-client"),
            ]
        upgrade(url, "head")
    finally:
        engine.dispose()
