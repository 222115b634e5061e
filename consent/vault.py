"""The data vault: suppliers push participant data by category; reads go through the gate.

Values are JSON. Categories flagged ``encrypt`` (special, biometric, and SNILS) are stored only
as AES-GCM blobs bound to their row by the associated data, so a dump reveals nothing and a
blob copied to another subject or category fails to decrypt.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import repository as repo
from consent.catalogue import CategoryInfo
from consent.models import Organization, VaultItem
from consent.service import require_categories
from propusk import crypto
from propusk.errors import NotFound
from propusk.settings import Settings


def _aad(subject_id: uuid.UUID, category: str, supplier_id: uuid.UUID) -> bytes:
    return f"vault:{subject_id}:{category}:{supplier_id}".encode()


def put(
    session: Session,
    settings: Settings,
    supplier: Organization,
    subject_id: uuid.UUID,
    category_key: str,
    value: Any,
    *,
    actor: str,
    now: datetime,
) -> VaultItem:
    """Store (or replace) the supplier's value of one category for one subject."""
    from idp import service as idp

    category = require_categories(session, [category_key])[category_key]
    if idp.get_person(session, subject_id) is None:
        raise NotFound("no such participant", type="unknown-subject")
    item = repo.vault_item(session, subject_id, category_key, supplier.id)
    if item is None:
        item = VaultItem(subject_id=subject_id, category_key=category_key, supplier_id=supplier.id)
    _set_value(settings, item, category, value)
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


def _set_value(settings: Settings, item: VaultItem, category: CategoryInfo, value: Any) -> None:
    if category.encrypt:
        blob = json.dumps(value, ensure_ascii=False).encode()
        aad = _aad(item.subject_id, item.category_key, item.supplier_id)
        item.value_enc = crypto.encrypt(settings.kek_bytes, blob, aad)
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
