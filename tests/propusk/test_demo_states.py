"""``propusk demo --states`` makes what it promises, and only once (``propusk.demo_states``).

The seed runs twice on each database (SQLite and PostgreSQL); every state is then read back
through the JSON API as the people themselves see it (the parent for his son, the student and
her father, the adult student), and the operators' side (destruction tasks) as the operator's
client sees it.
"""

from __future__ import annotations

import uuid

from idp import identity
from propusk import caches
from propusk.db import session_scope
from propusk.demo_proctor import PROCTOR_OID, TITLE
from propusk.demo_states import seed_states

EVERY_STATE = {"requested", "given", "refused", "withdrawn", "suspended", "expired"}
SIGNERS = {"under14": ["guardian"], "14to17": ["subject", "guardian"], "adult": ["subject"]}


class Callers:
    """GETs of the JSON API by the consent harness's callers (people in Propusk's own pages,
    operator clients)."""

    def __init__(self, harness) -> None:
        self.h = harness

    def person(self, person_id: uuid.UUID) -> dict[str, str]:
        return self.h.person_headers(person_id)

    def operator(self, org_id: uuid.UUID) -> dict[str, str]:
        return self.h.org_client(str(org_id), "operator")

    def get(self, path: str, headers: dict[str, str], **params) -> dict:
        r = self.h.client.get(path, headers=headers, params=params)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()


def _ids(report) -> dict:
    """What a report names, in no particular order (without whether this run made it)."""

    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return sorted(map(str, value)) if isinstance(value, list) else value

    return {
        name: {k: plain(v) for k, v in vars(p).items() if k != "made_now"}
        for name, p in report.personas.items()
    }


def test_seed_states_makes_every_state_once_and_the_api_shows_them(settings, harness):
    first = seed_states(settings)
    second = seed_states(settings)
    assert all(p.made_now for p in first.personas.values())
    assert not any(p.made_now for p in second.personas.values())
    assert _ids(second) == _ids(first)

    callers = Callers(harness)
    ages = {name: p.age_group for name, p in first.personas.items()}
    assert ages["parent"] == "under14" and ages["adult"] == "adult"
    for name, persona in first.personas.items():
        seen = callers.person(persona.login_id)
        subject = {"subject": str(persona.subject_id)}
        _consents_shown(callers, seen, subject, persona)
        _transfers_and_data_shown(callers, seen, subject, persona)
        _demands_shown(callers, seen, subject, persona)
        if persona.age_group == "14to17":  # her father sees her requests, his signature awaited
            father = callers.person(persona.guardian_id)
            asked = callers.get("/api/v1/me/requests", father, **subject)["requests"]
            assert {str(i) for i in persona.consents["partially_given"]} <= {
                c["id"] for c in asked
            }, name
    # the operator the olympiad consents were withdrawn from has their destruction tasks
    olympiad = callers.operator(first.organizations["olympiad"])
    tasks = {t["id"] for t in callers.get("/api/v1/consent/destruction", olympiad)["tasks"]}
    for persona in first.personas.values():
        assert persona.destruction_tasks and {str(t) for t in persona.destruction_tasks} <= tasks


def _consents_shown(callers: Callers, seen: dict, subject: dict, persona) -> None:
    states = EVERY_STATE | ({"partially_given"} if persona.age_group == "14to17" else set())
    assert set(persona.consents) == states
    listed = callers.get("/api/v1/me/consents", seen, **subject)["consents"]
    by_id = {c["id"]: c for c in listed}
    for state, ids in persona.consents.items():
        for consent_id in ids:
            assert by_id[str(consent_id)]["state"] == state
    waiting = {c["id"] for c in callers.get("/api/v1/me/requests", seen, **subject)["requests"]}
    pending = persona.consents["requested"] + persona.consents.get("partially_given", [])
    assert {str(i) for i in pending} <= waiting
    written = [by_id[str(i)] for i in persona.consents["requested"]]
    assert any(c["form"] == "written" for c in written)  # the written-form request
    (given,) = persona.consents["given"]
    one = callers.get(f"/api/v1/consents/{given}", seen)
    assert [s["role"] for s in one["signatures"]] == SIGNERS[persona.age_group]
    assert one["supplier_id"] is not None  # the e-journal it names wrote the data


def _transfers_and_data_shown(callers: Callers, seen: dict, subject: dict, persona) -> None:
    history = callers.get("/api/v1/me/transfers", seen, **subject)["transfers"]
    decisions = {t["id"]: t for t in history}
    assert set(persona.transfers) == {"allowed", "partial", "refused"}
    for decision, ids in persona.transfers.items():
        for transfer_id in ids:
            assert decisions[str(transfer_id)]["decision"] == decision
    reasons = {r for t in history for r in t["refused"].values()}
    assert {"no_consent", "category_not_covered", "consent_withdrawn"} <= reasons
    assert "consent_suspended" in reasons
    held = {d["category"] for d in callers.get("/api/v1/me/data", seen, **subject)["data"]}
    assert {"person.fullname", "education.grades", "education.attendance"} <= held


def _demands_shown(callers: Callers, seen: dict, subject: dict, persona) -> None:
    mine = callers.get("/api/v1/me/obligations", seen, **subject)
    status = {o["id"]: (o["kind"], o["status"]) for o in mine["obligations"]}
    expected = {"stop_processing": "extended", "rectification": "rectified", "access": "open"}
    for kind, ids in persona.obligations.items():
        assert all(status[str(i)] == (kind, expected[kind]) for i in ids), kind
    assert set(persona.obligations) == set(expected)
    assert persona.access_requests
    assert any("Срок продлён" in n["text"] for n in mine["notices"])


def test_the_demo_proctor_has_a_lived_in_session_once(settings, harness):
    """Зайцев Павел (the simulator's 1000400004) is the school's proctor with today's session:
    one taker verified by her passport, one started on the document path, one not started."""
    seed_states(settings)
    seed_states(settings)
    # the seed ran in its own runtime (as `propusk demo` does before serving): on SQLite there
    # is no NOTIFY, so the test app re-reads its rules now rather than at its next 5 s poll
    caches.invalidate("policies.rules")
    with session_scope(harness.runtime.sessionmaker) as s:
        proctor = identity.get_person_by_oid(s, PROCTOR_OID).id
    callers = Callers(harness)
    mine = callers.get("/api/v1/exams/sessions", callers.person(proctor))
    (exam,) = mine["sessions"]  # the second seed made nothing
    assert exam["title"] == TITLE and exam["window"] == "open"
    assert (exam["takers"], exam["started"], exam["decided"]) == (3, 2, 1)
    view = callers.get(f"/api/v1/exams/sessions/{exam['id']}", callers.person(proctor))
    by_name = {t["name"].split()[0]: t for t in view["takers"]}
    assert by_name["Соколова"]["decision"]["decision"] == "verified"
    assert by_name["Соколова"]["decision"]["basis"]["identity_document"]["number_last4"] == "3817"
    assert by_name["Волкова"]["decision"] is None
