"""Lived-in demo data: three demo people whose cabinets show a consent in every state.

``make run`` seeds a bare demo (``propusk.demo``): people, schools, one operator, one pending
request. ``seed_states`` (``propusk demo --states``) adds, for the data subject of each persona
of the ESIA simulator's fixture,

* ``parent``  — Смирнов Дмитрий (1000400016) and his son Смирнов Артём (1000400006, under 14):
  the parent signs, refuses, withdraws and files demands for the child;
* ``student`` — Волкова Полина (1000400013, 14–17) with her father Волков Виктор (1000400024):
  both sign (one signature: ``partially_given``), she refuses, withdraws and files demands;
* ``adult``   — Соколова Екатерина (1000400015, 18): everything herself;

consents given, suspended (after a demand to stop processing, extended by the operator with a
notice), withdrawn (with its destruction task), refused, expired (a request nobody answered),
requested (an ordinary and a written-form one) and, for the 14–17 student, partially given;
a supplier's vault values; the operator's gated pulls (allowed, partial, refused: no consent,
withdrawn, suspended); a rectification checked and rectified; an art. 14 access request.

Everything goes through the packages' service functions with the person the law lets act
(``consent.representation``): the people come from ``idp.login.on_login`` with the fixture's
ESIA data (what their first login would make), and each signer signs on ``consent.signing``
in a login session opened for them (as the simulator's login would), closed afterwards.
Times are the real clock; the one exception is the expired request, filed a day more than its
answer period ago (the service takes the request's time; nothing else can make a request
lapse today). Idempotent: a subject that already has consents on the ``demo.states.*``
templates is not seeded again; the report is read back from the database each time.
The consoles are lived in too: the operator's (``propusk.demo_operator``), the platform
administrator's (``propusk.demo_platform``) and the proctor's (``propusk.demo_proctor``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from consent import (
    access,
    flows,
    lifecycle,
    obligations,
    parties,
    queries,
    representation,
    signing,
    templates,
    vault,
)
from consent.demo import seed as seed_consent
from consent.parties import Party
from consent.signatures import required_roles
from idp import guardianship, identity, login, schools
from idp.demo import load_fixture
from idp.demo import seed as seed_idp
from idp.guardianship import owner_resource
from idp.oidc import logins
from idp.oidc.principal import person_principal
from idp.upstream import UpstreamChild, UpstreamIdentity
from policies.engine import CURRENT, PolicyEngine
from policies.service import authorize
from propusk.db import session_scope, utcnow
from propusk.demo_operator import seed_operator_console
from propusk.demo_platform import seed_platform
from propusk.demo_proctor import PROCTOR_OID, seed_proctor_console
from propusk.demo_world import (
    DEMO_ACTOR,
    KEY_PREFIX,
    OLYMPIAD_CENTRE,
    OPERATOR_OID,
    SUPPLIER,
    TEMPLATES,
    VAULT_VALUES,
)
from propusk.runtime import build_runtime
from propusk.security import Principal
from propusk.settings import Settings

SESSION_TTL = 600  # the seed's own login sessions, ended when it is done


@dataclass(frozen=True)
class Persona:
    name: str
    login_oid: str  # the ESIA account that logs in to see the states
    subject_oid: str  # whose data they are
    guardian_oid: str | None  # the legal representative (a minor's parent)


PERSONAS = (
    Persona("parent", "1000400016", "1000400006", "1000400016"),
    Persona("student", "1000400013", "1000400013", "1000400024"),
    Persona("adult", "1000400015", "1000400015", None),
)


@dataclass
class PersonaStates:
    """What exists for one persona's subject (read back from the database)."""

    login_oid: str
    login_id: uuid.UUID
    subject_id: uuid.UUID
    guardian_id: uuid.UUID | None
    age_group: str
    consents: dict[str, list[uuid.UUID]] = field(default_factory=dict)  # state → ids
    written_requests: list[uuid.UUID] = field(default_factory=list)  # written form, unanswered
    destruction_tasks: list[uuid.UUID] = field(default_factory=list)
    transfers: dict[str, list[uuid.UUID]] = field(default_factory=dict)  # decision → ids
    refusal_reasons: list[str] = field(default_factory=list)
    obligations: dict[str, list[uuid.UUID]] = field(default_factory=dict)  # kind → ids
    notices: list[str] = field(default_factory=list)
    access_requests: list[uuid.UUID] = field(default_factory=list)
    vault: list[str] = field(default_factory=list)  # categories the supplier wrote
    made_now: bool = False
    not_made: list[str] = field(default_factory=list)  # states this age cannot have, and why


@dataclass
class StatesReport:
    organizations: dict[str, uuid.UUID]
    personas: dict[str, PersonaStates]


def seed_states(settings: Settings) -> StatesReport:
    """Seed (once) and report the lived-in states of the three personas."""
    runtime = build_runtime(settings)
    engine = PolicyEngine(runtime.sessionmaker)  # signing asks the policy, as a request does
    engine.snapshot()
    token = CURRENT.set(engine)
    try:
        with session_scope(runtime.sessionmaker) as session:
            return _seed(session, settings)
    finally:
        CURRENT.reset(token)
        runtime.dispose()


def _seed(session: Session, settings: Settings) -> StatesReport:
    ids = seed_idp(session, settings)
    seed_consent(session, ids)
    world = _World.build(session, ids)
    fixture = load_fixture()
    organizations = {"operator": world.operator, "olympiad": world.olympiad}
    report = StatesReport(
        {k: v.id for k, v in {**organizations, "supplier": world.supplier}.items()}, {}
    )
    for persona in PERSONAS:
        people = _people(session, settings, fixture, persona)
        made = False
        if not _seeded(session, people.subject):
            with _Acting(session, people) as acting:
                _make_states(session, settings, world, acting)
            made = True
        states = _collect(session, settings, world, persona, people)
        states.made_now = made
        report.personas[persona.name] = states
    seed_platform(session, world.operator.id, world.olympiad.id, world.supplier.id)
    seed_operator_console(session, settings, world.operator, world.templates["attestation"])
    school = next(o["oid"] for o in fixture["organizations"] if o.get("kind") == "school")
    proctor = next(p for p in fixture["persons"] if p["oid"] == PROCTOR_OID)
    seed_proctor_console(session, settings, ids[school], _identity(proctor, []))
    return report


# -- the world: operators, supplier, templates --------------------------------------------------


@dataclass
class _World:
    operator: Party  # the demo's ГБУ ТО «РЦЦО»
    olympiad: Party  # a second operator
    supplier: Party  # the e-journal that writes grades and attendance
    templates: dict[str, Any]  # short name → Template

    @classmethod
    def build(cls, session: Session, idp_ids: dict[str, uuid.UUID]) -> _World:
        operator = parties.get(session, idp_ids[OPERATOR_OID])
        assert operator is not None, "the consent demo registers the simulator's operator"
        olympiad = _organization(session, OLYMPIAD_CENTRE)
        supplier = _organization(session, SUPPLIER)
        owners = {"operator": operator, "olympiad": olympiad}
        made = {}
        for short, (owner, data) in TEMPLATES.items():
            org = owners[owner]
            made[short] = templates.latest_template(
                session, org, data["key"]
            ) or templates.publish_template(session, org, data, actor=DEMO_ACTOR)
        return cls(operator, olympiad, supplier, made)


def _organization(session: Session, data: dict[str, Any]) -> Party:
    found = schools.find_organization(session, None, data["ogrn"])
    party = parties.get(session, found.id) if found is not None else None
    return party or parties.register_organization(session, data, actor=DEMO_ACTOR)


# -- people -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _People:
    login: uuid.UUID
    subject: uuid.UUID
    guardian: uuid.UUID | None


def _people(
    session: Session, settings: Settings, fixture: dict[str, Any], persona: Persona
) -> _People:
    """The persona's people as their ESIA logins make them (the person, the children ESIA
    lists for a parent, their statuses): the one who logs in and the parent, if any — logged
    in only when missing (or the parent's link to the child is)."""
    by_oid = {p["oid"]: p for p in fixture["persons"]}
    for oid in dict.fromkeys(filter(None, (persona.login_oid, persona.guardian_oid))):
        if _known(session, oid, persona.subject_oid if oid == persona.guardian_oid else None):
            continue
        kids = [k["child"] for k in fixture.get("kids", []) if k["parent"] == oid]
        reported = _identity(by_oid[oid], [by_oid[k] for k in kids])
        login.on_login(session, reported, settings=settings)

    def person(oid: str) -> uuid.UUID:
        found = identity.get_person_by_oid(session, oid)
        assert found is not None, oid
        return found.id

    guardian = person(persona.guardian_oid) if persona.guardian_oid else None
    return _People(person(persona.login_oid), person(persona.subject_oid), guardian)


def _known(session: Session, oid: str, child_oid: str | None) -> bool:
    """The person exists (and, for a parent, represents the child today)."""
    found = identity.get_person_by_oid(session, oid)
    if found is None or child_oid is None:
        return found is not None
    return any(c.esia_oid == child_oid for c in guardianship.children_of(session, found.id))


def _birth(value: str | None):
    return datetime.strptime(value, "%d.%m.%Y").date() if value else None


def _names(rec: dict[str, Any]) -> dict[str, Any]:
    """Who ESIA says a fixture person is (a person's or a child's record alike)."""
    return {
        "esia_oid": rec["oid"],
        "last_name": rec["lastName"],
        "first_name": rec["firstName"],
        "middle_name": rec.get("middleName"),
        "birth_date": _birth(rec.get("birthDate")),
        "gender": rec.get("gender"),
        "snils": rec.get("snils"),
    }


def _identity(rec: dict[str, Any], kids: list[dict[str, Any]]) -> UpstreamIdentity:
    """The fixture person as an ESIA login reports them, with the children ESIA lists."""
    contacts = {c["type"]: c["value"] for c in rec.get("contacts", [])}
    return UpstreamIdentity(
        **_names(rec),
        email=contacts.get("EML"),
        phone=contacts.get("MBT"),
        trusted=bool(rec.get("trusted")),
        children=tuple(UpstreamChild(**_names(k)) for k in kids),
    )


class _Acting:
    """Who acts for the subject, each in a login session of Propusk's own pages."""

    def __init__(self, session: Session, people: _People) -> None:
        self.session = session
        self.people = people
        subject = identity.get_person(session, people.subject)
        self.age = guardianship.age_group(subject, on=guardianship.local_date(utcnow()))
        self._raw: list[str] = []
        self._principals: dict[uuid.UUID, Principal] = {}

    def __enter__(self) -> _Acting:
        return self

    def __exit__(self, *exc: object) -> None:
        for raw in self._raw:
            logins.end_login_session(self.session, raw)

    @property
    def subject(self) -> uuid.UUID:
        return self.people.subject

    def signers(self) -> list[uuid.UUID]:
        """Who must sign at this age, the subject first (14–17: both)."""
        needed = required_roles(self.age)
        order = [("subject", self.people.subject), ("guardian", self.people.guardian)]
        return [who for role, who in order if role in needed and who is not None]

    def actor(self) -> uuid.UUID:
        """Who refuses, withdraws and files demands: the subject, or under 14 the parent."""
        if self.age == "under14":
            assert self.people.guardian is not None
            return self.people.guardian
        return self.people.subject

    def principal(self, person_id: uuid.UUID) -> Principal:
        if person_id not in self._principals:
            raw = logins.create_login_session(
                self.session,
                person_id,
                amr=["pwd"],
                upstream="esia",
                ttl=SESSION_TTL,
                confirmed=True,
            )
            self._raw.append(raw)
            row = logins.active_login_session(self.session, raw)
            assert row is not None
            self._principals[person_id] = person_principal(
                self.session, person_id, channel="session", auth=logins.auth_context(row)
            )
        return self._principals[person_id]


# -- making the states ------------------------------------------------------------------------


def _seeded(session: Session, subject_id: uuid.UUID) -> bool:
    return any(_ours(session, c) for c in lifecycle.list_consents(session, subject_id, utcnow()))


def _ours(session: Session, consent) -> bool:
    return queries.template(session, consent.template_id).key.startswith(KEY_PREFIX)


def _request(session: Session, world: _World, short: str, subject: uuid.UUID, **kw):
    template = world.templates[short]
    owner = world.operator if template.operator_id == world.operator.id else world.olympiad
    return lifecycle.create_request(
        session,
        owner,
        template_id=template.id,
        subject_id=subject,
        categories=None,
        purpose=None,
        supplier_id=kw.get("supplier_id"),
        actor=DEMO_ACTOR,
        now=kw.get("now") or utcnow(),
    )


def _sign(session: Session, settings: Settings, acting: _Acting, consent_id, signers) -> None:
    """Each signer signs the document they are shown, on the signing ceremony."""
    for person_id in signers:
        principal = acting.principal(person_id)
        now = utcnow()
        shown = signing.prepare(session, principal, consent_id, now).document.sha256
        signing.sign(session, settings, principal, consent_id, shown, now)


def _given(session: Session, settings: Settings, world: _World, acting: _Acting, short: str, **kw):
    consent = _request(session, world, short, acting.subject, **kw)
    _sign(session, settings, acting, consent.id, acting.signers())
    return consent


def _make_states(session: Session, settings: Settings, world: _World, acting: _Acting) -> None:
    """Every state for the acting people's subject, in the order a year of school makes them."""
    operator = obligations.Registrar(DEMO_ACTOR, world.operator.id)
    _given_with_data(session, settings, world, acting)
    _suspended(session, settings, world, acting, operator)
    _withdrawn(session, settings, world, acting)
    _pending(session, settings, world, acting)
    _unanswered(session, world, acting)
    _demands(session, world, acting, operator)


def _given_with_data(session: Session, settings: Settings, world: _World, acting: _Acting) -> None:
    """given: the attestation consent names the e-journal, which writes the subject's data;
    the operator's gated reads: allowed, partial (a category the consent does not cover),
    refused (the second operator has no consent for that purpose)."""
    subject = acting.subject
    _given(session, settings, world, acting, "attestation", supplier_id=world.supplier.id)
    name = identity.full_name(identity.get_person(session, subject))
    for category, value in {"person.fullname": name, **VAULT_VALUES}.items():
        vault.put(
            session,
            settings,
            world.supplier,
            subject,
            category,
            value,
            actor=DEMO_ACTOR,
            now=utcnow(),
        )
    basic = ["person.fullname", "education.grades"]
    _pull(session, settings, world.operator, subject, "attestation.online", basic)
    more = [*basic, "person.birthdate"]
    _pull(session, settings, world.operator, subject, "attestation.online", more)
    grades = ["education.grades"]
    _pull(session, settings, world.olympiad, subject, "statistics.regional", grades)


def _suspended(
    session: Session,
    settings: Settings,
    world: _World,
    acting: _Acting,
    operator: obligations.Registrar,
) -> None:
    """suspended: given, then a demand to stop processing (the operator takes 5 more working
    days, with a notice); the operator's next read is refused."""
    statistics = _given(session, settings, world, acting, "statistics")
    stop = _demand(
        session,
        acting,
        obligations.file_stop_processing,
        consent_id=statistics.id,
        operator_id=None,
        reason="Прошу прекратить передачу оценок для региональной статистики.",
    )
    obligations.resolve(
        session,
        operator,
        stop.id,
        "extend",
        now=utcnow(),
        reason="Обработка ведётся в нескольких информационных системах; нужна проверка каждой.",
    )
    grades = ["education.grades"]
    _pull(session, settings, world.operator, acting.subject, "statistics.regional", grades)


def _withdrawn(session: Session, settings: Settings, world: _World, acting: _Acting) -> None:
    """withdrawn: given, then withdrawn (its destruction task starts); the operator is refused."""
    olympiad = _given(session, settings, world, acting, "olympiad")
    lifecycle.withdraw(
        session, olympiad.id, acting.actor(), now=utcnow(), reason="Участие в олимпиаде отменено."
    )
    emails = ["contact.email"]
    _pull(session, settings, world.olympiad, acting.subject, "olympiad.registration", emails)


def _pending(session: Session, settings: Settings, world: _World, acting: _Acting) -> None:
    """requested: this season's olympiad (14–17: the student signed, the parent has not yet:
    partially_given) and the written-form request (biometrics)."""
    season = _request(session, world, "olympiad", acting.subject)
    if acting.age == "14to17":
        _sign(session, settings, acting, season.id, acting.signers()[:1])
    _request(session, world, "biometric", acting.subject)


def _unanswered(session: Session, world: _World, acting: _Acting) -> None:
    """refused; and expired: a request nobody answered within its period (filed that long
    ago — the one time not of the real clock)."""
    refused = _request(session, world, "publication", acting.subject)
    principal = acting.principal(acting.actor())
    reason = "Против публикации достижений на сайте."
    signing.refuse(session, principal, refused.id, utcnow(), reason=reason)
    ttl = world.templates["publication"].request_ttl_days
    filed = utcnow() - timedelta(days=ttl + 1)
    _request(session, world, "publication", acting.subject, now=filed)
    lifecycle.expire_due(session, utcnow(), acting.subject)


def _demands(
    session: Session, world: _World, acting: _Acting, operator: obligations.Registrar
) -> None:
    """A rectification (the category is blocked while the operator checks it), rectified;
    an art. 14 access request, its answer due in 10 working days."""
    rectification = _demand(
        session,
        acting,
        obligations.file_rectification,
        categories=["education.attendance"],
        operator_id=world.operator.id,
        correction="Отсутствие на уроках 14 ноября — по болезни, справка сдана в школу.",
        proof="Медицинская справка № 1187",
    )
    obligations.resolve(session, operator, rectification.id, "rectified", now=utcnow())
    person = _authorized(session, acting, "access_request", "create")
    access.create_access_request(session, acting.subject, person, now=utcnow())


def _authorized(session: Session, acting: _Acting, obj: str, act: str) -> uuid.UUID:
    """The acting person may do this for the subject (as the route checks it)."""
    person = acting.actor()
    representation.subjects_for(session, person, acting.subject, "demand")
    authorize(acting.principal(person), obj, act, resource=owner_resource(session, acting.subject))
    return person


def _demand(session: Session, acting: _Acting, file, **kw):
    person = _authorized(session, acting, "obligation", "create")
    return file(session, acting.subject, person, now=utcnow(), **kw)


def _pull(session, settings, operator: Party, subject, purpose: str, categories: list[str]):
    flows.pull(
        session,
        settings,
        operator,
        subject_id=subject,
        purpose=purpose,
        categories=categories,
        actor=DEMO_ACTOR,
        now=utcnow(),
    )


# -- the report -------------------------------------------------------------------------------


def _collect(
    session: Session, settings: Settings, world: _World, persona: Persona, people: _People
) -> PersonaStates:
    subject = identity.get_person(session, people.subject)
    now = utcnow()
    age = guardianship.age_group(subject, on=guardianship.local_date(now))
    states = PersonaStates(persona.login_oid, people.login, people.subject, people.guardian, age)
    ours = [c for c in lifecycle.list_consents(session, people.subject, now) if _ours(session, c)]
    for c in ours:
        states.consents.setdefault(c.state, []).append(c.id)
        if c.form == "written" and c.state == "requested":
            states.written_requests.append(c.id)
    ids = {c.id for c in ours}
    for org in (world.operator, world.olympiad):
        states.destruction_tasks += [
            t.id for t in queries.open_destruction(session, org) if t.consent_id in ids
        ]
    for t, _proof in queries.transfer_history(session, settings, people.subject, 200):
        if t.actor == DEMO_ACTOR:
            states.transfers.setdefault(t.decision, []).append(t.id)
            states.refusal_reasons += sorted(set(t.refused.values()) - set(states.refusal_reasons))
    mine = obligations.of_subject(session, people.subject)
    for o in mine["obligations"]:
        states.obligations.setdefault(o["kind"], []).append(uuid.UUID(o["id"]))
        if o["access_request_id"]:
            states.access_requests.append(uuid.UUID(o["access_request_id"]))
    states.notices = [n["text"] for n in mine["notices"]]
    states.vault = sorted(
        {
            i.category_key
            for i, _ in queries.vault_data(session, settings, people.subject)
            if i.supplier_id == world.supplier.id
        }
    )
    if age != "14to17":
        states.not_made.append(
            "partially_given: only a 14–17 subject's consent has two signers (subject and parent)"
        )
    return states
