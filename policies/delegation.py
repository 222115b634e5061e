"""What a relying party may do with a person's access token: the scope vocabulary.

A person acts in Propusk's own pages (the login cookie, ``Principal.channel == "session"``)
with every permission the policy gives them. A relying party that holds the person's access
token acts only within the scopes the person granted it on the consent screen: each *resource
scope* below opens exactly the (object, action) pairs it names, for the person's own data and
their children's (the policy's owner/guardian conditions still apply on top). Everything else
is refused to a token whatever the policy says about the person — school administration,
proctoring, platform administration, and above all **signing, refusing, withdrawing or
suspending a consent** and filing 152-FZ demands: those are the person's own acts, done only in
Propusk's pages (a relying party sends the person to the signing page instead).

OIDC scopes (``openid``, ``profile``, …) only choose claims of the ID token and userinfo; they
open no API route.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from propusk.security import Principal

# OIDC scopes: which claims a relying party learns (idp.claims.claims_for).
OIDC_SCOPES: dict[str, str] = {
    "openid": "что вы вошли через Пропуск (без других сведений)",
    "profile": "фамилия, имя, отчество, дата рождения, пол, возрастная группа",
    "email": "адрес электронной почты",
    "school": "статусы в школах (ученик, учитель, родитель …)",
    "children": "сведения о детях: имя и возрастная группа",
    "offline_access": (
        "получать эти сведения, когда вы не в приложении, пока вы не отзовёте доступ"
    ),
}
# ``profile`` brings the school statuses too (claims_for): the screen says so once.
IMPLIED: dict[str, tuple[str, ...]] = {"profile": ("school",)}

# Resource scopes: scope → the (object, action) pairs of the participant API it opens.
RESOURCE_SCOPES: dict[str, frozenset[tuple[str, str]]] = {
    "consents.read": frozenset({("consent", "read")}),
    "transfers.read": frozenset({("transfer", "read"), ("audit.proof", "read")}),
    "data.read": frozenset({("person.data", "read")}),
    "obligations.read": frozenset({("obligation", "read")}),
    "biometrics.enrol": frozenset(
        {("biometric.enrolment", "read"), ("biometric.enrolment", "create")}
    ),
}
RESOURCE_SCOPE_TEXT: dict[str, str] = {
    "consents.read": "просматривать ваши согласия на обработку данных",
    "transfers.read": "просматривать, кому и когда передавались ваши данные",
    "data.read": "читать ваши персональные данные, хранящиеся в Пропуске",
    "obligations.read": "просматривать ваши обращения об обработке данных",
    "biometrics.enrol": "записывать образец вашего лица для проверки на экзаменах",
}
# Acting for a child (``?subject=``) also needs this scope, granted on the screen that names them.
CHILDREN = "children"
# Never delegable, whatever the scopes: listed for the threat model and its tests.
PERSONAL_ACTS: frozenset[tuple[str, str]] = frozenset(
    {
        ("consent", "approve"),
        ("consent", "refuse"),
        ("consent", "withdraw"),
        ("obligation", "create"),
        ("access_request", "create"),
        ("biometric.enrolment", "delete"),
    }
)
ALL_SCOPES: tuple[str, ...] = (*OIDC_SCOPES, *RESOURCE_SCOPES)


@dataclass(frozen=True)
class Refusal:
    """Why a delegated principal may not do (obj, act): the scope that would open it, if any."""

    obj: str
    act: str
    scope: str | None

    @property
    def detail(self) -> str:
        if self.scope is None:
            return (
                f"{self.obj}:{self.act} is not delegable: the person does it in Propusk's own pages"
            )
        return f"the access token lacks the scope {self.scope!r} for {self.obj}:{self.act}"


def describe(scope: str) -> tuple[list[str], list[str]]:
    """What a person is told about ``scope``: (what the application learns, what it may do),
    each once (``profile`` already brings the school statuses) — on the consent screen and in
    the cabinet's list of applications alike."""
    names = list(dict.fromkeys(scope.split()))
    for name in list(names):
        names += [n for n in IMPLIED.get(name, ()) if n not in names]
    learns = [OIDC_SCOPES[s] for s in names if s in OIDC_SCOPES and s != "offline_access"]
    acts = [RESOURCE_SCOPE_TEXT[s] for s in names if s in RESOURCE_SCOPE_TEXT]
    if "offline_access" in names:
        acts.append(OIDC_SCOPES["offline_access"])
    return learns, acts


def is_delegated(principal: Principal) -> bool:
    """A person's principal that did not come through Propusk's own pages."""
    return principal.kind in ("person", "platform_admin") and not principal.first_party


def scope_for(obj: str, act: str) -> str | None:
    """The resource scope that opens (obj, act) to a token, if one does."""
    for scope, pairs in RESOURCE_SCOPES.items():
        if (obj, act) in pairs:
            return scope
    return None


def refusal(
    principal: Principal, obj: str, act: str, resource: Mapping[str, Any] | None = None
) -> Refusal | None:
    """``None`` if the principal may attempt (obj, act) (the policy then decides), else why not.

    Client principals speak for their organisation and persons in Propusk's pages for
    themselves: only delegated person principals are limited here. A delegated principal acting
    on someone else's resource (a representative's ``?subject=<child>``) also needs the
    ``children`` scope — the one the consent screen names the children for."""
    if not is_delegated(principal):
        return None
    scope = scope_for(obj, act)
    if scope is None or scope not in principal.scopes:
        return Refusal(obj, act, scope)
    subject = (resource or {}).get("subject")
    if subject is not None and subject != principal.subject and CHILDREN not in principal.scopes:
        return Refusal(obj, act, CHILDREN)
    return None
