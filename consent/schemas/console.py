"""Answers of the operator staff's console (``consent.routes.staff``): every key a page shows
comes with its Russian title (categories, purposes) and people by name only."""

from __future__ import annotations

import uuid

from pydantic import Field

from consent.console.service import (
    ConsentsPage,
    PeriodStats,
    StopFeed,
    Tasks,
    actor_name,
)
from consent.models import ConsentEvent, Template, WithdrawalAck
from consent.participant import Names
from consent.schemas.base import Answer, Day, Strict, Timestamp, TitledOut, iso
from consent.schemas.registry import TemplateOut, template_out
from propusk.messages.names import DESTRUCTION_REASONS, PERIODS, PROCESSING_METHODS


def titled(names: Names, keys: list[str]) -> list[TitledOut]:
    return [TitledOut(key=k, title=names.category(k)) for k in keys]


class StaffTemplateOut(TemplateOut):
    """A template version with the titles of its purpose and categories."""

    purpose_title: str
    category_titles: list[TitledOut]
    processing_method_titles: list[str]


def staff_template_out(t: Template, names: Names) -> StaffTemplateOut:
    return StaffTemplateOut(
        **template_out(t).model_dump(),
        purpose_title=names.purpose(t.purpose_key),
        category_titles=titled(names, t.categories),
        processing_method_titles=[PROCESSING_METHODS.get(m, m) for m in t.processing_methods],
    )


class StaffTemplatesOut(Answer):
    templates: list[StaffTemplateOut] = Field(description="newest version of each key first")


class StaffConsentOut(Answer):
    """A consent (request) of the operator: the subject by name, the state, the titles."""

    id: uuid.UUID
    subject_name: str
    state: str
    template_key: str | None
    template_version: int | None
    purpose: TitledOut
    categories: list[TitledOut]
    form: str
    requested_at: Timestamp | None
    request_expires_at: Timestamp | None
    given_at: Timestamp | None
    valid_until: Timestamp | None
    ended_at: Timestamp | None


class StaffConsentsOut(Answer):
    consents: list[StaffConsentOut]
    total: int = Field(description="matching the filter")
    counts: dict[str, int] = Field(description="every consent of the operator, by state")
    offset: int
    limit: int


def staff_consents_out(page: ConsentsPage, offset: int, limit: int) -> StaffConsentsOut:
    out = []
    for c in page.consents:
        tpl = page.templates.get(c.template_id)
        out.append(
            StaffConsentOut(
                id=c.id,
                subject_name=page.subjects.get(c.subject_id, "участник"),
                state=c.state,
                template_key=tpl.key if tpl else None,
                template_version=tpl.version if tpl else None,
                purpose=TitledOut(key=c.purpose_key, title=page.names.purpose(c.purpose_key)),
                categories=titled(page.names, c.categories),
                form=c.form,
                requested_at=iso(c.requested_at),
                request_expires_at=iso(c.request_expires_at),
                given_at=iso(c.given_at),
                valid_until=iso(c.valid_until),
                ended_at=iso(c.ended_at),
            )
        )
    return StaffConsentsOut(
        consents=out, total=page.total, counts=page.counts, offset=offset, limit=limit
    )


class WithdrawalOut(Answer):
    """A withdrawal or a demand to stop processing, and its acknowledgement."""

    id: uuid.UUID = Field(description="the feed event")
    pos: int
    type: str = Field(description="withdrawn | suspended (the consent state it led to)")
    at: Timestamp | None
    consent_id: uuid.UUID
    subject_name: str
    purpose: TitledOut | None
    categories: list[TitledOut]
    stop_due: Day | None = Field(description="a stop demand: the last day to stop processing")
    acknowledged_at: Timestamp | None
    acknowledged_by: str | None = Field(description="the staff member's name")


def withdrawal_out(event: ConsentEvent, ack: WithdrawalAck | None, feed: StopFeed) -> WithdrawalOut:
    consent = feed.consents.get(event.consent_id)
    return WithdrawalOut(
        id=event.id,
        pos=event.pos,
        type=event.type,
        at=iso(event.at),
        consent_id=event.consent_id,
        subject_name=feed.people.get(event.subject_id, "участник"),
        purpose=(
            TitledOut(key=consent.purpose_key, title=feed.names.purpose(consent.purpose_key))
            if consent
            else None
        ),
        categories=titled(feed.names, list(consent.categories) if consent else []),
        stop_due=(event.payload or {}).get("stop_due"),
        acknowledged_at=iso(ack.acknowledged_at) if ack else None,
        acknowledged_by=(actor_name(feed.people, ack.acknowledged_by) or "сотрудник")
        if ack
        else None,
    )


class WithdrawalsOut(Answer):
    withdrawals: list[WithdrawalOut]
    total: int
    offset: int
    limit: int


class StaffTaskOut(Answer):
    """A destruction task: whose data, which categories, by which (Moscow) day."""

    id: uuid.UUID
    consent_id: uuid.UUID
    subject_name: str
    categories: list[TitledOut]
    reason: str = Field(description="withdrawn | revoked | expired | dissemination_stop")
    reason_title: str
    started_at: Timestamp | None
    due_date: Day
    overdue: bool = Field(description="unconfirmed after its last day (Moscow)")
    confirmed_at: Timestamp | None
    confirmed_by: str | None = Field(description="the staff member's name, if a person")
    deferred: bool = Field(description="destruction impossible in 30 days: an obligation opened")
    deferred_until: Day | None


def staff_tasks_out(found: Tasks) -> list[StaffTaskOut]:
    out = []
    for t in found.tasks:
        deferred = t.id in found.deferrals
        deferral_due = found.deferrals.get(t.id)
        out.append(
            StaffTaskOut(
                id=t.id,
                consent_id=t.consent_id,
                subject_name=found.people.get(t.subject_id, "участник"),
                categories=titled(found.names, t.categories),
                reason=t.reason,
                reason_title=DESTRUCTION_REASONS.get(t.reason, "окончание согласия"),
                started_at=iso(t.started_at),
                due_date=t.due_date.isoformat(),
                overdue=t.confirmed_at is None and not deferred and t.due_date < found.today,
                confirmed_at=iso(t.confirmed_at),
                confirmed_by=actor_name(found.people, t.confirmed_by) if t.confirmed_by else None,
                deferred=deferred,
                deferred_until=deferral_due.isoformat() if deferral_due else None,
            )
        )
    return out


class StaffTasksOut(Answer):
    tasks: list[StaffTaskOut]
    today: Day = Field(description="today in Moscow")


class StaffDeferIn(Strict):
    reason: str = Field(min_length=3, max_length=2000)


class CategoryCountOut(Answer):
    category: TitledOut
    allowed: int
    refused: int


class PeriodStatsOut(Answer):
    period: str = Field(description="week | month | year (the last 7, 30, 365 days)")
    title: str
    since: Timestamp
    records: int = Field(description="transfer decisions recorded")
    categories: list[CategoryCountOut]


class TransferStatsOut(Answer):
    periods: list[PeriodStatsOut]


def transfer_stats_out(periods: list[PeriodStats], names: Names) -> TransferStatsOut:
    out = []
    for p in periods:
        keys = sorted({*p.allowed, *p.refused}, key=names.category)
        out.append(
            PeriodStatsOut(
                period=p.key,
                title=PERIODS[p.key],
                since=p.since.isoformat(),
                records=p.records,
                categories=[
                    CategoryCountOut(
                        category=TitledOut(key=k, title=names.category(k)),
                        allowed=p.allowed.get(k, 0),
                        refused=p.refused.get(k, 0),
                    )
                    for k in keys
                ],
            )
        )
    return TransferStatsOut(periods=out)
