"""Roster import: every malformed row reported with its line, nothing half-imported."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text

from idp import roster
from idp.login import on_login
from idp.models import RosterEntry, Status
from idp.schools import get_school
from idp.statuses import active_statuses
from propusk.db import session_scope
from propusk.errors import NotFound
from tests.idp import factories as f
from tests.idp.helpers import HEAD, register_test_school, roster_errors


def _count(session, school_id) -> int:
    return session.scalar(
        select(func.count()).select_from(RosterEntry).where(RosterEntry.school_id == school_id)
    )


def test_malformed_rows_are_reported_with_line_numbers_and_nothing_changes(session):
    school = register_test_school(session)
    good = f.snils()
    first = HEAD + f"student,{f.name()},Анна,,2012-02-02,{good},6А\n"
    roster.import_roster(session, school.id, first, "person:admin")
    before = _count(session, school.id)
    dup = f.snils()
    bad = (
        HEAD
        + f"student,{f.name()},Пётр,,2011-01-01,{f.snils()},5А\n"  # 2: fine
        + f"student,{f.name()},Пётр,,2011-01-01,{f.bad_snils(good)},5А\n"  # 3: checksum
        + f"janitor,{f.name()},Иван,,1970-01-01,,\n"  # 4: role
        + "teacher,,Иван,,1970-01-01,,\n"  # 5: last name
        + f"student,{f.name()},Олег,,31.02.2011,,5А\n"  # 6: date
        + f"student,{f.name()},Олег,,2011-01-01\n"  # 7: field count
        + "\n"  # 8: blank, skipped
        + f"student,{f.name()},Вера,,2011-03-03,{dup},5А\n"  # 9: fine
        + f"student,{f.name()},Вера,,2011-03-04,{dup},5Б\n"  # 10: duplicate SNILS
    )
    errors = roster_errors(session, school.id, bad)
    assert [(e["line"], e["field"]) for e in errors] == [
        (3, "snils"),
        (4, "role"),
        (5, "last_name"),
        (6, "birth_date"),
        (7, "row"),
        (10, "snils"),
    ]
    assert "строку 9" in errors[-1]["message"]
    assert _count(session, school.id) == before


def test_header_problems(session):
    school = register_test_school(session)
    errors = roster_errors(session, school.id, "role,first_name,birth_date,shoe_size\nx,y,z,1\n")
    assert {(e["line"], e["field"]) for e in errors} == {(1, "last_name"), (1, "shoe_size")}
    assert roster_errors(session, school.id, "")[0]["message"] == "файл пустой"
    assert roster_errors(session, school.id, HEAD)[0]["message"] == "в списке нет ни одной строки"


def test_semicolons_bom_russian_roles_and_dates(session):
    school = register_test_school(session)
    csv_text = (
        "\ufeffrole;last_name;first_name;middle_name;birth_date;snils;class\n"
        f"ученик;{f.name()};Анна;Ивановна;01.09.2012;{f.snils()};6А\n"
        f'учитель;"{f.name()}";Иван;;1980-01-01;;\n'
    )
    report = roster.import_roster(session, school.id, csv_text, "person:admin")
    assert (report.rows, report.added) == (2, 2)
    roles = sorted(e.role for e in roster.roster_of(session, school.id))
    assert roles == ["student", "teacher"]
    assert {e.confirmed_by for e in roster.roster_of(session, school.id)} == {"person:admin"}


def test_reimport_is_idempotent(session):
    school = register_test_school(session)
    csv_text = HEAD + f"student,{f.name()},Анна,,2012-02-02,{f.snils()},6А\n"
    roster.import_roster(session, school.id, csv_text, "person:admin")
    again = roster.import_roster(session, school.id, csv_text, "person:admin2")
    assert (again.added, again.unchanged, again.ended) == (0, 1, 0)
    assert [e.confirmed_by for e in roster.roster_of(session, school.id)] == ["person:admin2"]


def test_roster_snils_is_encrypted_at_rest(session):
    school = register_test_school(session)
    snils = f.snils()
    digits = "".join(c for c in snils if c.isdigit())
    roster.import_roster(
        session, school.id, HEAD + f"student,{f.name()},Анна,,2012-02-02,{snils},6А\n", "a"
    )
    rows = session.execute(
        text("SELECT snils_enc, snils_hash FROM roster_entry WHERE school_id = :s"),
        {"s": school.id if session.bind.dialect.name == "postgresql" else school.id.hex},
    ).all()
    assert len(rows) == 1
    assert digits.encode() not in bytes(rows[0][0]) and digits not in rows[0][1]


def test_failure_midway_leaves_no_rows(runtime):
    """A roster that is valid but hits an error after writes rolls back entirely."""
    with session_scope(runtime.sessionmaker) as s:
        school_id = register_test_school(s).id
    kid = f.child(snils_value=f.snils())
    with pytest.raises(NotFound), session_scope(runtime.sessionmaker) as s:
        roster.import_roster(
            s,
            school_id,
            HEAD + f"student,{kid.last_name},Маша,,2013-09-01,{kid.snils},1А\n",
            "a",
        )
        get_school(s, uuid.uuid4())  # not a school: the boundary rolls back
    with session_scope(runtime.sessionmaker) as s:
        assert _count(s, school_id) == 0
        assert (
            s.scalar(select(func.count()).select_from(Status).where(Status.school_id == school_id))
            == 0
        )


def test_corrected_snils_moves_the_match(session):
    """A roster row fixed to another SNILS stops naming the first person."""
    school = register_test_school(session)
    first, second = f.snils(), f.snils()
    a = on_login(session, f.identity(snils_value=first, birth_date=None))
    b = on_login(session, f.identity(snils_value=second, birth_date=None))
    row = HEAD + "student,Иванов,Иван,,2012-02-02,{},6А\n"
    roster.import_roster(session, school.id, row.format(first), "person:admin")
    assert [s.role for s in active_statuses(session, a.id)] == ["student"]
    report = roster.import_roster(session, school.id, row.format(second), "person:admin")
    assert (report.updated, report.matched, report.added) == (1, 1, 0)
    assert active_statuses(session, a.id) == []
    assert [s.role for s in active_statuses(session, b.id)] == ["student"]


def test_crlf_and_multiline_fields_keep_line_numbers(session):
    school = register_test_school(session)
    csv_text = (
        "role,last_name,first_name,birth_date\r\n"
        f'student,"{f.name()}\r\nвторая строка",Анна,2012-02-02\r\n'
        f"student,{f.name()},,2012-02-02\r\n"
    )
    errors = roster_errors(session, school.id, csv_text)
    assert [(e["line"], e["field"]) for e in errors] == [(2, "last_name"), (4, "first_name")]
