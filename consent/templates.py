"""Consent templates: the immutable, versioned text an operator asks participants to sign.

A template is refused at publication when it lacks an element of 152-FZ art. 9 part 4 (checks
1, 2, 4, 19): the text, purpose, categories, actions, processing methods, term and how to
withdraw; a consent to dissemination states the subject's conditions (art. 10.1); special and
biometric data need the written form (art. 10 part 2, art. 11).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from audit.service import record as audit
from consent import repository as repo
from consent.catalogue import CategoryInfo, require_categories, require_purpose
from consent.models import Template
from consent.parties import Party
from propusk.errors import ValidationProblem

ACTIONS = (
    "сбор",
    "запись",
    "систематизация",
    "накопление",
    "хранение",
    "уточнение",
    "извлечение",
    "использование",
    "передача",
    "обезличивание",
    "блокирование",
    "удаление",
    "уничтожение",
)
PROCESSING_METHODS = ("automated", "non_automated", "mixed")
MAX_TERM_DAYS = 366 * 5
ART9_ELEMENTS = (
    "text",
    "purpose",
    "categories",
    "actions",
    "processing_methods",
    "term_days",
    "withdrawal_method",
)


def publish_template(
    session: Session, operator: Party, data: dict[str, Any], *, actor: str
) -> Template:
    """Publish an immutable template version; refuse one that lacks an art. 9 part 4 element."""
    categories = _check_template(session, data)
    version = repo.latest_template_version(session, operator.id, data["key"]) + 1
    template = Template(
        operator_id=operator.id,
        key=data["key"],
        version=version,
        language=data.get("language", "ru"),
        text=data["text"],
        text_hash=hashlib.sha256(data["text"].encode()).hexdigest(),
        purpose_key=data["purpose"],
        categories=list(categories),
        actions=list(dict.fromkeys(data["actions"])),
        processing_methods=list(data["processing_methods"]),
        processor=data.get("processor"),
        conditions=data.get("conditions"),
        term_days=int(data["term_days"]),
        withdrawal_method=data["withdrawal_method"],
        form=data.get("form", "any"),
        request_ttl_days=int(data.get("request_ttl_days", 30)),
        valid_until=data.get("valid_until"),
    )
    repo.add(session, template)
    audit(
        session,
        "consent.template.published",
        actor=actor,
        body={"template_id": str(template.id), "version": version},
    )
    return template


def latest_template(session: Session, operator: Party, key: str) -> Template | None:
    """The newest published version of the operator's template ``key``, if any."""
    return repo.latest_template(session, operator.id, key)


def _check_template(session: Session, data: dict[str, Any]) -> dict[str, CategoryInfo]:
    """Every art. 9 part 4 element, known purpose and categories, known actions and methods,
    a term of 1..1830 days, the written form where the data need it; the categories found."""
    missing = [name for name in ART9_ELEMENTS if not data.get(name)]
    if missing:
        raise ValidationProblem(
            "the consent lacks art. 9 part 4 elements: " + ", ".join(missing),
            type="incomplete-consent",
            missing=missing,
        )
    purpose = require_purpose(session, data["purpose"])
    if purpose.dissemination and not (data.get("conditions") or "").strip():
        raise ValidationProblem(
            "a consent to dissemination states the subject's conditions and prohibitions "
            "(152-FZ art. 10.1; RKN Order 18)",
            type="dissemination-conditions-required",
        )
    categories = require_categories(session, data["categories"])
    bad_actions = [a for a in data["actions"] if a not in ACTIONS]
    if bad_actions:
        raise ValidationProblem("unknown actions: " + ", ".join(bad_actions), type="bad-action")
    if any(m not in PROCESSING_METHODS for m in data["processing_methods"]):
        raise ValidationProblem("processing methods are automated, non_automated or mixed")
    if not 0 < int(data["term_days"]) <= MAX_TERM_DAYS:
        raise ValidationProblem("the consent term must be 1..1830 days", type="bad-term")
    written = data.get("form", "any") == "written"
    if any(c.special or c.biometric for c in categories.values()) and not written:
        raise ValidationProblem(
            "special and biometric data need a written consent (art. 10 part 2, art. 11)",
            type="written-form-required",
        )
    return categories
