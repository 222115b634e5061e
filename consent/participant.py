"""What a participant's own pages show, in the words a person reads.

The cabinet lists the same consents, transfers and values as the API (``lifecycle.list_consents``,
``queries.transfer_history``, ``queries.vault_data``): this module adds what those rows name only
by key or id — the catalogue's titles of purposes and categories, the organisations' names, ИНН
and addresses, the destruction clock a withdrawal started, the consent each transferred category
relied on — and says, before a person withdraws a consent or demands that processing stop, what
follows and by which day. A person never signs or withdraws on the strength of a machine key.
Reads only: nothing here writes (the answers' shapes are ``consent.schemas``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from consent import catalogue, deadlines, parties, queries
from consent import repository as repo
from consent.models import Consent, DestructionTask, Transfer, VaultItem
from consent.parties import Party
from propusk.settings import Settings

# A key the catalogue no longer knows (a retired category) is still never shown as a key.
UNKNOWN_CATEGORY = "категория, исключённая из каталога"
UNKNOWN_PURPOSE = "цель, исключённая из каталога"
WITHDRAWABLE = ("given", "partially_given", "suspended")


@dataclass(frozen=True)
class Names:
    """Titles and organisations for one answer, loaded once (catalogue and registry caches)."""

    categories: dict[str, str]
    purposes: dict[str, str]
    parties: dict[uuid.UUID, Party]

    def category(self, key: str) -> str:
        return self.categories.get(key, UNKNOWN_CATEGORY)

    def purpose(self, key: str) -> str:
        return self.purposes.get(key, UNKNOWN_PURPOSE)

    def party(self, org_id: uuid.UUID | None) -> Party | None:
        return self.parties.get(org_id) if org_id is not None else None


def names_for(
    session: Session,
    *,
    categories: Iterable[str] = (),
    purposes: Iterable[str] = (),
    organizations: Iterable[uuid.UUID | None] = (),
) -> Names:
    """The titles of these catalogue keys and the registry entries of these organisations."""
    titles = {k: info.title for k, info in catalogue.categories(session, set(categories)).items()}
    purpose_titles = {}
    for key in set(purposes):
        info = catalogue.purpose(session, key)
        if info is not None:
            purpose_titles[key] = info.title
    orgs = parties.many(session, {o for o in organizations if o is not None})
    return Names(titles, purpose_titles, orgs)


# --- consents ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentView:
    """A consent with the destruction clock its end started (None while it runs)."""

    consent: Consent
    destruction: DestructionTask | None


def consent_views(session: Session, consents: list[Consent]) -> tuple[list[ConsentView], Names]:
    """The subject's consents as the cabinet shows them, with their names."""
    names = names_for(
        session,
        categories=[k for c in consents for k in c.categories],
        purposes=[c.purpose_key for c in consents],
        organizations=[o for c in consents for o in (c.operator_id, c.supplier_id)],
    )
    tasks = repo.destruction_of_consents(session, [c.id for c in consents])
    return [ConsentView(c, tasks.get(c.id)) for c in consents], names


@dataclass(frozen=True)
class Consequences:
    """What follows a withdrawal or a demand to stop processing made now (None: not possible
    in the consent's state).

    ``withdraw_due``: the day by which the operator must have destroyed the data (30 days,
    art. 21 part 5) or stopped disseminating it (3 working days, art. 10.1; ``withdraw_kind``
    says which); None when the consent was never given (nothing was processed under it).
    ``stop_due``: the last day of the operator's answer to a demand to stop (10 working days,
    art. 21 part 5.1). ``ends_for_all``: one representative's or the student's withdrawal ends
    the consent for everybody who signed it (14–17)."""

    consent: Consent
    can_withdraw: bool
    withdraw_kind: str | None
    withdraw_due: date | None
    can_stop: bool
    stop_due: date | None
    ends_for_all: bool


def consequences(
    session: Session,
    consent: Consent,
    now: datetime,
    *,
    may_withdraw: bool = True,
    may_stop: bool = True,
) -> Consequences:
    """What withdrawing this consent, or demanding that its processing stop, would start;
    ``may_*``: whether the caller may do it at all (a child under 14 or a relying party may
    not), so nothing is offered that the act's route would refuse."""
    can_withdraw = may_withdraw and consent.state in WITHDRAWABLE
    kind = due = None
    if can_withdraw and consent.given_at is not None:
        purpose = catalogue.purpose(session, consent.purpose_key)
        if purpose is not None and purpose.dissemination:
            kind, due = "dissemination_stop", deadlines.dissemination_due(now)
        else:
            kind, due = "destruction", deadlines.destruction_due(now)
    can_stop = may_stop and consent.state == "given"
    stop_due = None
    if can_stop:
        received = deadlines.receipt_date(now)
        stop_due = deadlines.add_working_days(received, deadlines.STOP_PROCESSING_WD)
    return Consequences(
        consent=consent,
        can_withdraw=can_withdraw,
        withdraw_kind=kind,
        withdraw_due=due,
        can_stop=can_stop,
        stop_due=stop_due,
        ends_for_all=consent.age_rule == "14to17",
    )


# --- transfers and held values ----------------------------------------------------------------


@dataclass(frozen=True)
class TransferView:
    """A transfer with its audit proof and, per allowed category, the consent relied on."""

    transfer: Transfer
    proof: dict[str, Any] | None
    relied_on: dict[str, uuid.UUID] = field(default_factory=dict)


def transfer_views(
    session: Session, settings: Settings, subject_id: uuid.UUID, limit: int
) -> tuple[list[TransferView], Names]:
    """The subject's transfer history (newest first) as the cabinet shows it."""
    history = queries.transfer_history(session, settings, subject_id, limit)
    consents = {c.id: c for c in repo.consents_of_subject(session, subject_id, None)}
    views = [TransferView(t, proof, _relied_on(t, consents)) for t, proof in history]
    rows = [t for t, _ in history]
    names = names_for(
        session,
        categories=[k for t in rows for k in (*t.requested, *t.refused)],
        purposes=[t.purpose_key for t in rows],
        organizations=[o for t in rows for o in (t.operator_id, t.supplier_id)],
    )
    return views, names


def _relied_on(transfer: Transfer, consents: dict[uuid.UUID, Consent]) -> dict[str, uuid.UUID]:
    """Each allowed category → the consent (among those the decision names) that covers it."""
    named = [consents[uuid.UUID(i)] for i in transfer.consent_ids if uuid.UUID(i) in consents]
    relied: dict[str, uuid.UUID] = {}
    for key in transfer.allowed:
        for consent in named:
            if key in consent.categories:
                relied[key] = consent.id
                break
    return relied


def held_values(
    session: Session, settings: Settings, subject_id: uuid.UUID
) -> tuple[list[tuple[VaultItem, Any]], Names]:
    """The values held about the subject with their categories' titles and suppliers."""
    held = queries.vault_data(session, settings, subject_id)
    names = names_for(
        session,
        categories=[i.category_key for i, _ in held],
        organizations=[i.supplier_id for i, _ in held],
    )
    return held, names
