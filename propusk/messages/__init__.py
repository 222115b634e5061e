"""One catalogue of the Russian texts a person reads when something did not work, and of the
names of the codes the answers carry (states, roles, reasons).

Every page and console reads the same catalogue: server-rendered pages through the functions
below, the pages' scripts through ``GET /api/v1/messages`` (``propusk.routes``; ``static/api.js``
loads it once and ``propuskProblemText`` looks answers up in it). A person never reads the
English ``detail`` of a problem, an OAuth error code or a biometric reason code.

* ``problem_text(type, status)`` — a problem type (slug or full URI) → a sentence; a type
  without a text of its own → the status's sentence (``status_text``).
* ``validation_text(error)`` — one item of a 422's ``errors`` → a sentence naming the field in
  Russian when ``FIELD_LABELS`` knows it (``propusk.messages.validation``).
* ``reason_text``, ``oauth_text``, ``check_text`` — the transfer gate's refusal reasons, OAuth
  error codes, biometric results and reasons → phrases (``propusk.messages.codes``);
  ``sentence(phrase)`` makes one a sentence.
* ``state_text``, ``state_help``, ``role_text``, ``signer_text`` — a consent's state (a phrase,
  and what it means for the data in a sentence), a person's role, who signed
  (``propusk.messages.names``).
* ``catalogue()`` — all of it, as the browser gets it.

The kernel module every package may import (it imports no domain package).
"""

from __future__ import annotations

import functools
import hashlib

from pydantic import BaseModel, Field

from propusk.messages import admin
from propusk.messages.codes import CHECKS, OAUTH, REASONS
from propusk.messages.names import ROLES, SIGNERS, STATE_HELP, STATES
from propusk.messages.problems import GENERIC, PROBLEMS, STATUSES
from propusk.messages.validation import (
    DEFAULT,
    FIELD_LABELS,
    TEMPLATES,
    WHEN_ONE,
    Template,
    field_label,
    plural,
    validation_text,
)

__all__ = [
    "Catalogue",
    "Template",
    "catalogue",
    "catalogue_json",
    "check_text",
    "field_label",
    "oauth_text",
    "plural",
    "problem_text",
    "reason_text",
    "role_text",
    "sentence",
    "signer_text",
    "state_help",
    "state_text",
    "status_text",
    "validation_text",
]

TYPE_PREFIX = "https://propusk.dev/problems/"  # propusk.errors.TYPE_BASE
UNKNOWN_REASON = "передача не разрешена"
UNKNOWN_OAUTH = "неверный запрос"
UNKNOWN_CHECK = "проверка не пройдена"
UNKNOWN_STATE = "состояние неизвестно"
UNKNOWN_ROLE = "статус"
UNKNOWN_SIGNER = "подписант"


def status_text(status: int | None) -> str:
    """The sentence for an HTTP status (its class's for an unlisted one)."""
    if status in STATUSES:
        return STATUSES[status]
    if status is not None and 500 <= status < 600:
        return STATUSES[503]
    if status is not None and 400 <= status < 500:
        return STATUSES[400]
    return GENERIC


def problem_text(type: str | None, status: int | None = None) -> str:
    """The sentence for a problem type (``not-found`` or its full URI), else for ``status``."""
    slug = (type or "").removeprefix(TYPE_PREFIX)
    return PROBLEMS.get(slug) or status_text(status)


def reason_text(reason: str) -> str:
    """Why the transfer gate refused a category (``consent.gate``), as a phrase."""
    return REASONS.get(reason, UNKNOWN_REASON)


def oauth_text(code: str) -> str:
    """An OAuth / OpenID Connect error code, as a phrase."""
    return OAUTH.get(code, UNKNOWN_OAUTH)


def check_text(code: str) -> str:
    """A biometric result, flag or reason code, as a phrase."""
    return CHECKS.get(code, UNKNOWN_CHECK)


def state_text(state: str | None) -> str:
    """A consent's state (``consent.models.STATES``), as a phrase: «действует», «отозвано»."""
    return STATES.get(state or "", UNKNOWN_STATE)


def state_help(state: str | None) -> str:
    """What a consent's state means for the data, as a sentence ("" for an unknown state)."""
    return STATE_HELP.get(state or "", "")


def role_text(role: str | None) -> str:
    """A person's status role (``idp.models.ROLES``), as a phrase: «ученик»."""
    return ROLES.get(role or "", UNKNOWN_ROLE)


def signer_text(role: str | None) -> str:
    """Who signed a consent (a signature's ``role``): «участник», «законный представитель»."""
    return SIGNERS.get(role or "", UNKNOWN_SIGNER)


def sentence(phrase: str) -> str:
    """«согласие отозвано» → «Согласие отозвано.»"""
    if not phrase:
        return phrase
    text = phrase[0].upper() + phrase[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


class Catalogue(BaseModel):
    """The Russian texts of failures and codes, for the pages' scripts (``static/api.js``)."""

    problems: dict[str, str] = Field(description="problem type slug → sentence")
    statuses: dict[str, str] = Field(description="HTTP status → sentence (types without one)")
    generic: str = Field(description="the sentence when nothing else is known")
    validation: dict[str, Template] = Field(
        description="validation error type → sentence templates ({field}, {n}, {n|one|few|many})"
    )
    validation_default: Template
    validation_when_one: dict[str, str] = Field(
        description="error type → the type whose template reads better when the limit is 1"
    )
    fields: dict[str, str] = Field(description="request field (or parent.field) → label")
    reasons: dict[str, str] = Field(description="transfer gate refusal reason → phrase")
    oauth: dict[str, str] = Field(description="OAuth error code → phrase")
    checks: dict[str, str] = Field(description="biometric result, flag or reason → phrase")
    states: dict[str, str] = Field(description="consent state → phrase")
    state_help: dict[str, str] = Field(description="consent state → what it means, a sentence")
    roles: dict[str, str] = Field(description="a person's status role → phrase")
    signers: dict[str, str] = Field(description="a signature's role → phrase")
    unknown: dict[str, str] = Field(
        description="phrase for an unknown reason, oauth, check, state, role or signer"
    )
    admin: dict[str, dict[str, str]] = Field(
        description="the platform console's codes (propusk.messages.admin): verify, "
        "obligation_kinds, clocks, policy_objects, policy_actions, policy_conditions, "
        "policy_roles"
    )


@functools.cache
def catalogue() -> Catalogue:
    return Catalogue(
        problems=PROBLEMS,
        statuses={str(k): v for k, v in STATUSES.items()},
        generic=GENERIC,
        validation=TEMPLATES,
        validation_default=DEFAULT,
        validation_when_one=WHEN_ONE,
        fields=FIELD_LABELS,
        reasons=REASONS,
        oauth=OAUTH,
        checks=CHECKS,
        states=STATES,
        state_help=STATE_HELP,
        roles=ROLES,
        signers=SIGNERS,
        unknown={
            "reason": UNKNOWN_REASON,
            "oauth": UNKNOWN_OAUTH,
            "check": UNKNOWN_CHECK,
            "state": UNKNOWN_STATE,
            "role": UNKNOWN_ROLE,
            "signer": UNKNOWN_SIGNER,
        },
        admin={
            "verify": admin.VERIFY,
            "obligation_kinds": admin.OBLIGATION_KINDS,
            "clocks": admin.CLOCKS,
            "policy_objects": admin.POLICY_OBJECTS,
            "policy_actions": admin.POLICY_ACTIONS,
            "policy_conditions": admin.POLICY_CONDITIONS,
            "policy_roles": admin.POLICY_ROLES,
        },
    )


@functools.cache
def catalogue_json() -> tuple[bytes, str]:
    """The catalogue's JSON and its strong ETag (the same bytes for the life of the process)."""
    body = catalogue().model_dump_json().encode()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
