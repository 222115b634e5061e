"""The demo seed: schools, operator, roster and platform admin from the simulator fixture."""

from __future__ import annotations

from idp import demo, roster, service
from idp.upstream import UpstreamOrgRole


def test_seed_is_idempotent_and_matches_the_fixture(session, settings):
    data = demo.load_fixture()
    first = demo.seed(session, settings)
    again = demo.seed(session, settings)
    assert first == again
    school_org = next(o for o in data["organizations"] if o["kind"] == "school")
    school = service.find_school(session, school_org["oid"], None)
    entries = roster.roster_of(session, school.id)
    lines = (demo.FIXTURES / "roster.csv").read_text(encoding="utf-8").strip().splitlines()
    assert len(entries) == len(lines) - 1
    admin = next(p for p in data["persons"] if demo.PLATFORM_ADMIN_LABEL in p["label"])
    person = service.get_person_by_oid(session, admin["oid"])
    assert ("platform_admin", "*") in service.role_grants(session, person.id)


def test_demo_chief_becomes_school_admin(session, settings):
    demo.seed(session, settings)
    data = demo.load_fixture()
    role = next(r for r in data["roles"] if r["chief"])
    org = next(o for o in data["organizations"] if o["oid"] == role["org"])
    rec = next(p for p in data["persons"] if p["oid"] == role["person"])
    from tests.idp.factories import identity

    person = service.on_login(
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
    grants = service.role_grants(session, person.id)
    assert any(role == "school_admin" for role, _ in grants)
