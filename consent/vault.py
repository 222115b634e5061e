"""The data vault: suppliers push participant data by category; reads go through the gate.

Values are JSON. Categories flagged ``encrypt`` (special, biometric, and SNILS) are stored only
as AES-GCM blobs bound to their row by the associated data, so a dump reveals nothing and a
blob copied to another subject or category fails to decrypt.

A supplier writes a subject's data only with a relation to that subject (``relation``), and a
value no larger than its category's limit (``CategoryInfo.max_bytes``): otherwise any registered
supplier could file data about anyone, or fill the store. Values are keyed by subject ×
category × supplier; a pull of a category whose consent names a supplier releases only that
supplier's value (``released``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import repository as repo
from consent.catalogue import CategoryInfo, require_categories
from consent.gate import consent_refusal
from consent.models import VaultItem
from consent.parties import Party
from idp import identity, schools, statuses
from propusk import crypto
from propusk.errors import Forbidden, NotFound, Problem
from propusk.settings import Settings


def _aad(subject_id: uuid.UUID, category: str, supplier_id: uuid.UUID) -> bytes:
    return f"vault:{subject_id}:{category}:{supplier_id}".encode()


def put(
    session: Session,
    settings: Settings,
    supplier: Party,
    subject_id: uuid.UUID,
    category_key: str,
    value: Any,
    *,
    actor: str,
    now: datetime,
) -> VaultItem:
    """Store (or replace) the supplier's value of one category for one subject.

    Refused before anything is written: an unknown category (422) or subject (404), a supplier
    with no ``relation`` to the subject for this category (403 ``no-relation``), a value over the
    category's size limit (413 ``value-too-large``)."""
    category = require_categories(session, [category_key])[category_key]
    if identity.get_person(session, subject_id) is None:
        raise NotFound("no such participant", type="unknown-subject")
    if relation(session, supplier, subject_id, category, now) is None:
        raise Forbidden(
            "the supplier has no relation to this participant for this category: neither a "
            "status in the supplier's school or organisation nor a given consent naming the "
            "supplier that covers it",
            type="no-relation",
            category=category_key,
        )
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    if len(encoded) > category.max_bytes:
        raise Problem(
            f"the value is larger than the {category.max_bytes} bytes allowed for {category_key}",
            status=413,
            type="value-too-large",
            title="Value too large",
            category=category_key,
            max_bytes=category.max_bytes,
        )
    item = repo.vault_item(session, subject_id, category_key, supplier.id)
    if item is None:
        item = VaultItem(subject_id=subject_id, category_key=category_key, supplier_id=supplier.id)
    _set_value(settings, item, category, value, encoded)
    item.updated_at = now
    repo.add(session, item)
    audit(
        session,
        "vault.write",
        actor=actor,
        subject=f"person:{subject_id}",
        body={"category": category_key, "supplier_id": str(supplier.id)},
    )
    return item


def relation(
    session: Session,
    supplier: Party,
    subject_id: uuid.UUID,
    category: CategoryInfo,
    now: datetime,
) -> str | None:
    """How the supplier relates to the subject for this category, or ``None``.

    ``"status"``: the subject has an active status in the supplier's organisation, or in the
    school that is the supplier (the same legal entity: the school registered with the
    supplier's ESIA organisation oid or ОГРН) — any category. ``"consent"``: a given, in-term
    consent of the subject names the supplier and covers the category (the subject agreed that
    this supplier provides these data; a request not yet answered is no such agreement)."""
    registered = schools.get_organization(session, supplier.id)
    school = schools.find_school(
        session, registered.esia_org_oid if registered else None, supplier.ogrn
    )
    for status in statuses.active_statuses(session, subject_id):
        if status.organization_id == supplier.id or (
            school is not None and status.school_id == school.id
        ):
            return "status"
    for consent in repo.given_consents_naming_supplier(session, subject_id, supplier.id):
        if category.key in consent.categories and (
            consent_refusal(consent, category, now, transfer=False) is None
        ):
            return "consent"
    return None


def _set_value(
    settings: Settings, item: VaultItem, category: CategoryInfo, value: Any, encoded: bytes
) -> None:
    if category.encrypt:
        aad = _aad(item.subject_id, item.category_key, item.supplier_id)
        item.value_enc = crypto.encrypt(settings.kek_bytes, encoded, aad)
        item.value_json = None
    else:
        item.value_json = value
        item.value_enc = None


def value_of(settings: Settings, item: Any) -> Any:
    """The stored value of a ``VaultItem`` (or a row with its fields), decrypted if sealed."""
    if item.value_enc is None:
        return item.value_json
    aad = _aad(item.subject_id, item.category_key, item.supplier_id)
    return json.loads(crypto.decrypt(settings.kek_bytes, item.value_enc, aad))


def read(
    session: Session, settings: Settings, subject_id: uuid.UUID, categories: list[str] | None
) -> dict[str, Any]:
    """The newest value per category (only the categories asked for: field minimisation)."""
    rows = (
        repo.vault_items(session, subject_id)
        if categories is None
        else repo.vault_values(session, subject_id, categories)
    )
    return values(settings, rows)


def values(settings: Settings, rows: Any) -> dict[str, Any]:
    """Category → newest value, from vault rows ordered oldest → newest."""
    return {item.category_key: value_of(settings, item) for item in rows}


def released(rows: Sequence[Any], suppliers: Mapping[str, uuid.UUID]) -> Sequence[Any]:
    """The vault rows a transfer may release: of a category bound to a supplier (``suppliers``,
    from the consent relied on), only that supplier's; of the others, every supplier's."""
    if not suppliers:
        return rows
    return [r for r in rows if suppliers.get(r.category_key, r.supplier_id) == r.supplier_id]
