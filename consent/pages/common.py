"""What every consent page shares: the templates, the message and problem pages, and the few
lines a person reads first (who asks, whose data, what for — always the catalogue's titles,
never its keys). The words for states, signers and problems are the one catalogue's
(``propusk.messages``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from consent import catalogue, documents, queries
from consent.models import Consent
from idp import identity
from propusk.errors import Problem
from propusk.messages import problem_text, signer_text, state_help, state_text

HERE = Path(__file__).parent
CONSENT_TEMPLATES = HERE.parent / "templates"
WEB_TEMPLATES = HERE.parents[1] / "propusk" / "web" / "templates"  # the layout, read as a file
templates = Jinja2Templates(directory=[str(CONSENT_TEMPLATES), str(WEB_TEMPLATES)])
PUBLIC = {"x-public": True}
CABINET = ("/cabinet", "Перейти в личный кабинет")

ROLE_RU = {"subject": "участник (вы сами)", "guardian": "законный представитель"}
PENDING = ("requested", "partially_given")

PROBLEM_TITLE = {"no-receipt": "Квитанции нет"}
# On a consent's page, what was not found is the consent: the catalogue's sentence for that
PAGE_PROBLEM = {"not-found": "unknown-consent"}


def page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    """A page of its own (never cached, like every page: ``propusk.headers``)."""
    return templates.TemplateResponse(request, name, context, status_code=status)


def message(
    request: Request, title: str, text: str, status: int, link: tuple[str, str] | None = None
) -> Response:
    """A short page: what happened and where to go next (the cabinet unless ``link``)."""
    href, label = link or CABINET
    context = {"title": title, "text": text, "href": href, "label": label}
    return page(request, "sign_message.html", context, status)


def problem_page(request: Request, exc: Problem, consent_id=None) -> Response:
    """A refused act as a page in Russian, with the problem's own status."""
    kind = PAGE_PROBLEM.get(exc.type, exc.type)
    text = problem_text(kind, exc.status)  # the one catalogue (propusk.messages)
    link = None
    if exc.type in ("not-representative", "signer-not-allowed") and consent_id:
        # someone else logged in on this device: offer to change the account
        link = ("/oauth2/logout", "Выйти и войти под другой учётной записью")
    title = PROBLEM_TITLE.get(exc.type, "Действие невозможно")
    answer = message(request, title, text, exc.status, link)
    answer.headers.update(exc.headers or {})  # Retry-After of a rate limit
    return answer


def login_url(request: Request, fresh: bool = False, path: str | None = None) -> str:
    """``/login`` and back here (``fresh``: a new ESIA login, ``max_age=0``)."""
    target = path or request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = {"next": target}
    if fresh:
        query["max_age"] = "0"
    return "/login?" + urlencode(query)


@dataclass(frozen=True)
class Signer:
    """One signature as a person reads it."""

    name: str
    role: str
    at: str


def signers(session: Session, consent: Consent) -> list[Signer]:
    """Who signed, by name, as what and when (Moscow time)."""
    out = []
    for entry in consent.signatures:
        try:
            person = identity.get_person(session, uuid.UUID(str(entry.get("person_id"))))
        except ValueError:
            person = None
        name = identity.full_name(person) if person is not None else "—"
        role = signer_text(entry.get("role"))
        out.append(Signer(name, role, documents.local_time(entry.get("at"))))
    return out


def summary(session: Session, consent: Consent) -> dict[str, Any]:
    """Who asks, whose data, what for, for how long: the first lines a person reads."""
    operator = queries.organization_or_none(session, consent.operator_id)
    subject = identity.get_person(session, consent.subject_id)
    purpose = catalogue.purpose(session, consent.purpose_key)
    known = catalogue.categories(session, consent.categories)
    template = queries.template_or_none(session, consent.template_id)
    return {
        "operator": operator.name if operator else "оператор",
        "operator_party": operator,
        "subject": identity.full_name(subject) if subject else "участник",
        "purpose": purpose.title if purpose else "цель не указана в каталоге",
        "categories": [known[k].title for k in consent.categories if k in known],
        "biometric": any(c.biometric for c in known.values()),
        "term": documents.days_ru(template.term_days) if template else None,
        "withdrawal": template.withdrawal_method if template else None,
        "state_text": state_text(consent.state),
        "state_help": state_help(consent.state),
        "valid_from": documents.local_time(consent.valid_from) if consent.valid_from else None,
        "valid_until": documents.local_time(consent.valid_until) if consent.valid_until else None,
    }
