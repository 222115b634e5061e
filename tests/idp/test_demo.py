"""The demo seed: schools, operator, roster and platform admin from the simulator fixture.

The seed writes fixed ESIA oids and ОГРН (those of the simulator's fixture) that other tests'
live servers seed and log in as too: each test here gets a database of its own, so neither
what it finds nor what it leaves behind depends on the order the tests run in.
"""

from __future__ import annotations

import pytest

from idp import demo, roster
from idp.identity import get_person_by_oid
from idp.login import on_login
from idp.schools import find_school
from idp.statuses import role_grants
from idp.upstream import UpstreamOrgRole
from propusk.db import session_scope
from propusk.runtime import build_runtime
from tests.idp.factories import identity
from tests.support.settings import make_settings

pytestmark = pytest.mark.parametrize("fresh_db_url", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def own_runtime(fresh_db_url):
    """A runtime on a fresh, migrated, empty database."""
    rt = build_runtime(make_settings(fresh_db_url))
    yield rt
    rt.dispose()


def test_seed_is_idempotent_and_matches_the_fixture(own_runtime):
    settings = own_runtime.settings
    data = demo.load_fixture()
    with session_scope(own_runtime.sessionmaker) as session:
        first = demo.seed(session, settings)
    with session_scope(own_runtime.sessionmaker) as session:
        again = demo.seed(session, settings)
        assert first == again
        school_org = next(o for o in data["organizations"] if o["kind"] == "school")
        school = find_school(session, school_org["oid"], None)
        entries = roster.roster_of(session, school.id)
        lines = (demo.FIXTURES / "roster.csv").read_text(encoding="utf-8").strip().splitlines()
        assert len(entries) == len(lines) - 1
        admin = next(p for p in data["persons"] if demo.PLATFORM_ADMIN_LABEL in p["label"])
        person = get_person_by_oid(session, admin["oid"])
        assert ("platform_admin", "*") in role_grants(session, person.id)


def test_demo_chief_becomes_school_admin(own_runtime):
    data = demo.load_fixture()
    role = next(r for r in data["roles"] if r["chief"])
    org = next(o for o in data["organizations"] if o["oid"] == role["org"])
    rec = next(p for p in data["persons"] if p["oid"] == role["person"])
    with session_scope(own_runtime.sessionmaker) as session:
        demo.seed(session, own_runtime.settings)
        person = on_login(
            session,
            identity(
                esia_oid=rec["oid"],
                last_name=rec["lastName"],
                first_name=rec["firstName"],
                organizations=(
                    UpstreamOrgRole(
                        org_oid=org["oid"], ogrn=org["ogrn"], name=org["shortName"], chief=True
                    ),
                ),
            ),
        )
        grants = role_grants(session, person.id)
    assert any(role == "school_admin" for role, _ in grants)
