"""A roster never claims, by name + birth date alone, a person who has a status in another school
or a SNILS on file that differs (nor one of several namesakes): such rows are held for review
and listed in the import report; logins apply the same rule. Names a spreadsheet would run as
formulas are refused with a per-line error."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient

from idp import roster
from idp.login import on_login
from idp.statuses import active_statuses
from propusk.db import session_scope
from tests.idp import factories as f
from tests.idp.helpers import (
    HEAD,
    as_person,
    new_school,
    principal_from_headers,
    register_test_school,
    roster_errors,
    school_admin,
)

BIRTH = date(2011, 5, 6)


def _row(last: str, snils: str = "", role: str = "student", first: str = "Олег") -> str:
    return f"{role},{last},{first},,{BIRTH.isoformat()},{snils},5А\n"


def _person(session, last: str, snils: str | None = None, first: str = "Олег"):
    ident = f.identity(
        last_name=last, first_name=first, middle_name=None, birth_date=BIRTH, snils_value=snils
    )
    return on_login(session, ident)


def _schools_of(session, person) -> set:
    return {s.school_id for s in active_statuses(session, person.id)}


def test_import_holds_name_only_matches_for_review(session):
    a, b = register_test_school(session), register_test_school(session)
    last, snils = f.name(), f.snils()
    person = _person(session, last, snils)
    roster.import_roster(session, a.id, HEAD + _row(last, snils), "person:admin-a")
    assert _schools_of(session, person) == {a.id}  # by SNILS

    # school B names the same person by name + birth date only: held, not claimed
    other_snils, namesake_last = f.snils(), f.name()
    _person(session, namesake_last)
    _person(session, namesake_last)  # two people share this name and birth date
    differing_last = f.name()
    _person(session, differing_last, f.snils())
    rows = _row(last) + _row(differing_last, other_snils) + _row(namesake_last)
    report = roster.import_roster(session, b.id, HEAD + rows, "person:admin-b")
    assert report.matched == 0
    assert [(r["line"], r["reason"]) for r in report.as_dict()["review"]] == [
        (2, "status_in_another_school"),
        (3, "snils_differs"),
        (4, "ambiguous"),
    ]
    assert all(r["entry_id"] and r["message"] for r in report.as_dict()["review"])
    assert _schools_of(session, person) == {a.id}
    assert all(e.person_id is None for e in roster.roster_of(session, b.id))

    # the SNILS settles it: the row with the person's SNILS claims them (a second school)
    report = roster.import_roster(session, b.id, HEAD + _row(last, snils), "person:admin-b")
    assert (report.matched, report.as_dict()["review"]) == (1, [])
    assert _schools_of(session, person) == {a.id, b.id}


def test_login_applies_the_same_rule(session):
    a, b = register_test_school(session), register_test_school(session)
    last, snils = f.name(), f.snils()
    roster.import_roster(session, a.id, HEAD + _row(last, snils), "person:admin-a")
    roster.import_roster(session, b.id, HEAD + _row(last), "person:admin-b")
    person = _person(session, last, snils)
    # A's row by SNILS; B's only by name, and the person is now A's student: held
    assert _schools_of(session, person) == {a.id}
    assert [e.person_id for e in roster.roster_of(session, b.id)] == [None]
    on_login(session, f.identity(esia_oid=person.esia_oid, **_same(person, snils)))
    assert _schools_of(session, person) == {a.id}

    # two schools name a newcomer by name alone: neither claims them
    c, d = register_test_school(session), register_test_school(session)
    newcomer = f.name()
    for school in (c, d):
        roster.import_roster(session, school.id, HEAD + _row(newcomer), "person:admin")
    assert _schools_of(session, _person(session, newcomer)) == set()

    # one school, no other status, no SNILS to contradict: claimed by name as before
    lone = f.name()
    roster.import_roster(session, c.id, HEAD + _row(lone, role="teacher"), "person:admin")
    assert _schools_of(session, _person(session, lone)) == {c.id}


def _same(person, snils):
    return {
        "last_name": person.last_name,
        "first_name": person.first_name,
        "middle_name": None,
        "birth_date": BIRTH,
        "snils_value": snils,
    }


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r", " ="])
def test_formula_like_names_are_refused(session, lead):
    school = register_test_school(session)
    formula = f'{lead}HYPERLINK("http://evil")'
    cells = {"last_name": f.name(), "first_name": "Олег", "middle_name": "", "class": "5А"}
    for column in cells:
        bad = {**cells, column: formula if column != "class" else f"{lead}1"}
        quoted = {k: '"' + v.replace('"', '""') + '"' for k, v in bad.items()}
        row = "student,{last_name},{first_name},{middle_name},2011-05-06,,{class}\n"
        errors = roster_errors(session, school.id, HEAD + _row(f.name()) + row.format(**quoted))
        assert [(e["line"], e["field"]) for e in errors] == [(3, column)], errors
        assert "формула" in errors[0]["message"]
    assert roster.roster_of(session, school.id) == []


def test_import_report_over_http_lists_rows_for_review(app, runtime):
    app.state.principal_resolver = principal_from_headers
    with TestClient(app, base_url="http://testserver") as api:
        first, second = new_school(api), new_school(api)
        last, snils = f.name(), f.snils()
        with session_scope(runtime.sessionmaker) as s:
            _person(s, last, snils)
        for school, row in ((first, _row(last, snils)), (second, _row(last))):
            admin = school_admin(runtime, school)
            r = api.post(
                f"/api/v1/schools/{school['id']}/roster",
                content=(HEAD + row).encode(),
                headers={**as_person(admin), "content-type": "text/csv"},
            )
            assert r.status_code == 200, r.text
        assert r.json()["matched"] == 0
        (held,) = r.json()["review"]
        assert (held["line"], held["reason"]) == (2, "status_in_another_school")
        assert snils[:3] + snils[4:7] not in r.text  # no SNILS in the report
