"""Authentication context classes (OIDC ``acr``) of Propusk logins.

Propusk has no passwords: every login is an ESIA login (or, outside production, the
development form). What differs is how much ESIA vouches for the account: a *confirmed*
account (ESIA ``trusted``: identity checked in person or with a qualified signature) may sign
written-form consents; a simplified or standard one may not. The ``acr`` of a login says which,
and travels into codes, grants, ID tokens and signature records.
"""

from __future__ import annotations

ESIA = "urn:propusk:acr:esia"
ESIA_CONFIRMED = "urn:propusk:acr:esia:confirmed"
DEV = "urn:propusk:acr:dev"
SUPPORTED = (ESIA, ESIA_CONFIRMED)


def for_login(upstream: str, confirmed: bool) -> str:
    """The class of a login through ``upstream`` with an account confirmed or not."""
    if upstream != "esia":
        return DEV
    return ESIA_CONFIRMED if confirmed else ESIA


def method(upstream: str, amr: list[str] | tuple[str, ...]) -> str:
    """``esia:pwd``: the upstream and its authentication method, as a signature records it."""
    first = amr[0] if amr else "unknown"
    return f"{upstream}:{first}"
