"""Status derivation from upstream identities: school admin, roster, parent, operator staff."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import func, select, text

from idp import roster
from idp.claims import claims_for
from idp.guardianship import age_group, children_of, guardians_of
from idp.identity import get_person_by_oid, person_snils
from idp.login import on_login
from idp.models import Guardianship, Person, Status
from idp.schools import checked_ogrn, get_organization, register_operator_org, register_school
from idp.statuses import (
    active_statuses,
    appoint_proctor,
    end_school_status,
    grant_platform_admin,
    role_grants,
)
from idp.upstream import UpstreamOrgRole
from policies import service as policies
from propusk.db import session_scope
from propusk.errors import Conflict, ValidationProblem
from propusk.runtime import build_runtime
from propusk.validators import normalize_snils
from tests.idp import factories as f
from tests.idp.helpers import register_test_school
from tests.support.settings import make_settings


def _active(session, person_id, role=None):
    out = active_statuses(session, person_id)
    return [s for s in out if role is None or s.role == role]


def test_snils_checksum():
    good = f.snils()
    assert normalize_snils(good) == "".join(c for c in good if c.isdigit())
    assert normalize_snils("112-233-445 95") == "11223344595"
    with pytest.raises(ValueError, match="checksum"):
        normalize_snils(f.bad_snils("112-233-445 95"))
    for bad in ("123", "1122334459a", "112-233-445 951"):
        with pytest.raises(ValueError):
            normalize_snils(bad)


def test_ogrn_check_digit():
    assert checked_ogrn(" 1027700132195 ") == "1027700132195"
    assert checked_ogrn("304500116000157") == "304500116000157"  # ОГРНИП
    for bad, detail in (
        ("1027700132196", "OGRN check digit does not match"),
        ("102770013219", "OGRN must be 13 (or 15) digits"),
        ("10277001321a5", "OGRN must be 13 (or 15) digits"),
    ):
        with pytest.raises(ValidationProblem) as exc:
            checked_ogrn(bad)
        assert (exc.value.type, exc.value.detail) == ("invalid-ogrn", detail)


def test_login_creates_person_with_encrypted_snils(session):
    snils = f.snils()
    person = on_login(session, f.identity(snils_value=snils))
    digits = "".join(c for c in snils if c.isdigit())
    assert person_snils(person) == digits
    raw = session.execute(
        text("SELECT snils_enc, snils_hash FROM person WHERE esia_oid = :o"),
        {"o": person.esia_oid},
    ).one()
    blob = bytes(raw[0])
    assert digits.encode() not in blob and digits[:9].encode() not in blob
    assert digits not in raw[1]
    # Row binding: the blob does not decrypt as another person's SNILS.
    other = on_login(session, f.identity())
    other.snils_enc = blob
    with pytest.raises(InvalidTag):
        person_snils(other)
    session.rollback()


def test_login_refreshes_the_same_person(session):
    ident = f.identity()
    first = on_login(session, ident)
    again = on_login(session, f.identity(esia_oid=ident.esia_oid, last_name="Новая"))
    assert again.id == first.id and again.last_name == "Новая"


def test_school_admin_from_esia_roles_and_its_end(session):
    school = register_test_school(session)
    unregistered = UpstreamOrgRole(org_oid=f.oid(), ogrn=f.ogrn(), name="Чужая", chief=True)
    by_ogrn = UpstreamOrgRole(org_oid=f.oid(), ogrn=school.ogrn, name=school.name, chief=True)
    ident = f.identity(organizations=(by_ogrn, unregistered))
    person = on_login(session, ident)
    admin = _active(session, person.id, "school_admin")
    assert [(s.school_id, s.source) for s in admin] == [(school.id, "esia")]
    # Plain employee (neither chief nor admin): no status, and the old one ends.
    plain = UpstreamOrgRole(org_oid=school.esia_org_oid, ogrn=None, name=school.name)
    on_login(session, f.identity(esia_oid=ident.esia_oid, organizations=(plain,)))
    assert _active(session, person.id, "school_admin") == []
    ended = session.get(Status, admin[0].id)
    assert ended.revoked_at is not None and ended.end_reason == "no longer reported by ESIA"
    # Admin flag matched by org oid brings it back, once.
    adm = UpstreamOrgRole(org_oid=school.esia_org_oid, ogrn=None, name=school.name, admin=True)
    for _ in range(2):
        on_login(session, f.identity(esia_oid=ident.esia_oid, organizations=(adm,)))
    assert len(_active(session, person.id, "school_admin")) == 1


def test_operator_staff_for_registered_operator(session):
    org_oid, ogrn = f.oid(), f.ogrn()
    org_id = register_operator_org(session, org_oid, ogrn, "Оператор")
    assert register_operator_org(session, org_oid, ogrn, "Оператор") == org_id
    person = on_login(
        session,
        f.identity(organizations=(UpstreamOrgRole(org_oid=org_oid, ogrn=ogrn, name="Оператор"),)),
    )
    staff = _active(session, person.id, "operator_staff")
    assert [s.organization_id for s in staff] == [org_id]
    assert ("operator_staff", f"org:{org_id}") in role_grants(session, person.id)


def test_parent_status_follows_child_student_status(session):
    school = register_test_school(session)
    kid = f.child(snils_value=f.snils())
    csv = (
        "role,last_name,first_name,middle_name,birth_date,snils,class\n"
        f"student,{kid.last_name},{kid.first_name},{kid.middle_name},"
        f"{kid.birth_date.isoformat()},{kid.snils},5А\n"
    )
    roster.import_roster(session, school.id, csv, "person:admin")
    parent_ident = f.identity(children=(kid,))
    parent = on_login(session, parent_ident)
    child = get_person_by_oid(session, kid.esia_oid)
    student = _active(session, child.id, "student")
    assert [(s.school_id, s.class_name, s.source) for s in student] == [(school.id, "5А", "roster")]
    assert [s.school_id for s in _active(session, parent.id, "parent")] == [school.id]
    assert [c.id for c in children_of(session, parent.id)] == [child.id]
    assert [g.id for g in guardians_of(session, child.id)] == [parent.id]
    claims = claims_for(session, parent, {"openid", "profile", "school"})
    assert claims["school_statuses"] == [
        {
            "school_id": str(school.id),
            "school_name": school.name,
            "ogrn": school.ogrn,
            "role": "parent",
        }
    ]
    assert "children" not in claims  # only with the children scope
    claims = claims_for(session, parent, {"openid", "children"})
    assert claims["children"][0]["sub"] == str(child.id)
    assert claims["children"][0]["age_group"] == age_group(child)
    # ESIA stops reporting the child: guardianship ends, parent status ends.
    on_login(session, f.identity(esia_oid=parent_ident.esia_oid))
    assert _active(session, parent.id, "parent") == []
    link = session.scalar(select(Guardianship).where(Guardianship.guardian_id == parent.id))
    assert link.valid_to is not None
    assert children_of(session, parent.id) == []


def test_roster_match_at_login_by_name_and_birth_date(session):
    school = register_test_school(session)
    last = f.name()
    csv = (
        "role,last_name,first_name,middle_name,birth_date,snils,class\n"
        f"teacher,{last},Анна,Сергеевна,12.04.1980,,\n"
    )
    report = roster.import_roster(session, school.id, csv, "person:admin")
    assert (report.added, report.matched) == (1, 0)
    person = on_login(
        session,
        f.identity(
            last_name=last.upper(),
            first_name="Анна",
            middle_name="Сергеевна",
            birth_date=date(1980, 4, 12),
        ),
    )
    assert [s.role for s in _active(session, person.id)] == ["teacher"]
    claims = claims_for(session, person, {"openid", "profile"})
    assert claims["age_group"] == "adult"
    assert claims["school_statuses"][0]["role"] == "teacher"
    assert "esia_oid" not in claims and "snils" not in claims


def test_name_match_refused_when_snils_differs(session):
    school = register_test_school(session)
    last = f.name()
    csv = (
        "role,last_name,first_name,middle_name,birth_date,snils,class\n"
        f"student,{last},Олег,,2010-01-02,{f.snils()},7Б\n"
    )
    roster.import_roster(session, school.id, csv, "person:admin")
    person = on_login(
        session,
        f.identity(
            last_name=last,
            first_name="Олег",
            middle_name=None,
            birth_date=date(2010, 1, 2),
            snils_value=f.snils(),
        ),
    )
    assert _active(session, person.id) == []


def test_import_matches_known_people_and_graduation_ends_statuses(session):
    school = register_test_school(session)
    kid = f.child(snils_value=f.snils())
    parent = on_login(session, f.identity(children=(kid,)))
    child = get_person_by_oid(session, kid.esia_oid)
    assert _active(session, child.id) == []
    head = "role,last_name,first_name,middle_name,birth_date,snils,class\n"
    row = f"student,Другая,Фамилия,,{kid.birth_date.isoformat()},{kid.snils},9В\n"
    report = roster.import_roster(session, school.id, head + row, "person:admin")
    assert report.matched == 1
    assert [s.class_name for s in _active(session, child.id, "student")] == ["9В"]
    assert len(_active(session, parent.id, "parent")) == 1
    # Next year: class changes in place.
    roster.import_roster(session, school.id, head + row.replace("9В", "10В"), "person:admin")
    assert [s.class_name for s in _active(session, child.id, "student")] == ["10В"]
    # Graduation: the row is gone, statuses of the child and the parent end.
    other = f"teacher,{f.name()},Ирина,,1979-05-05,,\n"
    report = roster.import_roster(session, school.id, head + other, "person:admin")
    assert (report.ended, report.added) == (1, 1)
    assert _active(session, child.id) == []
    assert _active(session, parent.id, "parent") == []
    ended = session.scalars(
        select(Status).where(Status.person_id == child.id, Status.role == "student")
    ).all()
    assert all(s.end_reason == "removed from the school roster" for s in ended)


def test_proctor_appointment_and_ending(session):
    school = register_test_school(session)
    last = f.name()
    roster.import_roster(
        session,
        school.id,
        f"role,last_name,first_name,birth_date\nteacher,{last},Пётр,1975-01-01\n",
        "person:admin",
    )
    teacher = on_login(
        session,
        f.identity(
            last_name=last, first_name="Петр", middle_name=None, birth_date=date(1975, 1, 1)
        ),
    )
    stranger = on_login(session, f.identity())
    with pytest.raises(ValidationProblem):
        appoint_proctor(session, school.id, stranger.id, actor="person:admin")
    status = appoint_proctor(session, school.id, teacher.id, actor="person:admin")
    with pytest.raises(Conflict):
        appoint_proctor(session, school.id, teacher.id, actor="person:admin")
    roster_status = _active(session, teacher.id, "teacher")[0]
    with pytest.raises(Conflict):
        end_school_status(session, school.id, roster_status.id, actor="person:admin")
    end_school_status(session, school.id, status.id, actor="person:admin")
    assert [s.role for s in _active(session, teacher.id)] == ["teacher"]


def test_school_registration_conflicts(session):
    school = register_test_school(session)
    with pytest.raises(Conflict):
        register_school(session, ogrn=school.ogrn, name="Дубль")
    with pytest.raises(ValidationProblem):
        register_school(session, ogrn="1234567890123", name="Плохой ОГРН")


def test_platform_admin_bootstrap(session):
    person = on_login(session, f.identity())
    grant_platform_admin(session, person.esia_oid)
    grant_platform_admin(session, person.esia_oid)
    assert role_grants(session, person.id) == [("platform_admin", "*")]


def test_age_groups():
    p = Person(esia_oid="x", last_name="a", first_name="b", birth_date=date(2010, 6, 15))
    assert age_group(p, on=date(2024, 6, 14)) == "under14"
    assert age_group(p, on=date(2024, 6, 15)) == "14to17"
    assert age_group(p, on=date(2028, 6, 15)) == "adult"


def test_concurrent_first_logins_make_one_person(pg_url):
    """Two first logins of one ESIA account race on PostgreSQL: both succeed, one row."""
    rt = build_runtime(make_settings(pg_url))
    ident = f.identity(snils_value=f.snils())
    results: list = []
    try:
        first = rt.sessionmaker()
        mine = on_login(first, ident)

        def second() -> None:
            with session_scope(rt.sessionmaker) as s:
                results.append(on_login(s, ident).id)

        thread = threading.Thread(target=second)
        thread.start()
        with rt.engine.connect() as probe:  # wait until the second login blocks on our row
            while (
                thread.is_alive()
                and not probe.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND wait_event_type = 'Lock'"
                    )
                ).scalar()
            ):
                probe.rollback()
                time.sleep(0.01)
        first.commit()
        first.close()
        thread.join(timeout=30)
        assert results == [mine.id]
        with session_scope(rt.sessionmaker) as s:
            count = s.scalar(
                select(func.count()).select_from(Person).where(Person.esia_oid == ident.esia_oid)
            )
        assert count == 1
    finally:
        rt.dispose()


def test_repeated_or_self_children_are_ignored(session):
    kid = f.child()
    ident = f.identity(children=(kid, kid))
    ident = f.identity(
        esia_oid=ident.esia_oid, children=(kid, kid, f.child(esia_oid=ident.esia_oid))
    )
    parent = on_login(session, ident)
    assert [c.esia_oid for c in children_of(session, parent.id)] == [kid.esia_oid]


def test_an_operator_org_is_registered_once_and_completed(session):
    ogrn = f.ogrn()
    given = register_operator_org(session, None, ogrn, "Оператор")
    org_oid = f.oid()  # unique across the database: never a fixed value
    assert register_operator_org(session, org_oid, ogrn, "Оператор", inn="7707083893") == given
    org = get_organization(session, given)
    assert (org.esia_org_oid, org.inn) == (org_oid, "7707083893")
    with pytest.raises(Conflict):
        register_operator_org(session, None, ogrn, "Оператор", kind="supplier")
    person = on_login(
        session, f.identity(organizations=(UpstreamOrgRole(org_oid=f.oid(), ogrn=ogrn, name="О"),))
    )
    assert role_grants(session, person.id) == [("operator_staff", f"org:{given}")]


def test_dismissal_ends_the_proctor_appointment(session):
    school = register_test_school(session)
    last = f.name()
    head = "role,last_name,first_name,birth_date\n"
    roster.import_roster(session, school.id, head + f"teacher,{last},Нина,1970-01-01\n", "a")
    teacher = on_login(
        session,
        f.identity(
            last_name=last, first_name="Нина", middle_name=None, birth_date=date(1970, 1, 1)
        ),
    )
    proctor = appoint_proctor(session, school.id, teacher.id, actor="person:admin")
    roster.import_roster(session, school.id, head + f"teacher,{f.name()},Ира,1971-01-01\n", "a")
    assert _active(session, teacher.id) == []
    assert session.get(Status, proctor.id).end_reason == "no longer staff of the school"


def test_status_changes_reach_the_policy_engine(session):
    school = register_test_school(session)
    kid = f.child()
    head = "role,last_name,first_name,middle_name,birth_date\n"
    row = f"student,{kid.last_name},{kid.first_name},{kid.middle_name},{kid.birth_date}\n"
    roster.import_roster(session, school.id, head + row, "person:admin")
    parent = on_login(session, f.identity(children=(kid,)))
    child = get_person_by_oid(session, kid.esia_oid)

    def links(person_id):
        return sorted(
            (r["role"], r["domain"])
            for r in policies.subject_roles(session, f"person:{person_id}")
            if r["source"] == "status"
        )

    assert links(parent.id) == [("parent", f"school:{school.id}")]
    assert links(child.id) == [("student", f"school:{school.id}")]
    roster.import_roster(session, school.id, head + f"teacher,{f.name()},А,,1970-01-01\n", "a")
    assert links(parent.id) == [] and links(child.id) == []
