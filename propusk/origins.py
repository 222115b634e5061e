"""A URL's origin (RFC 6454: scheme, host and port), the unit every "is this ours?" check
compares: the CSRF check of a page's ``Origin``/``Referer`` (``idp.oidc.csrf``) and the ESIA
connector, which sends a person's bearer token to ESIA's own origin only (``idp.esia.rest``).
One function, so the two cannot drift apart."""

from __future__ import annotations

from urllib.parse import urlsplit


def origin_of(url: str) -> str | None:
    """``scheme://netloc`` in lower case, or None for what is not an absolute URL. User info
    stays in the netloc, so ``https://user@host`` is not ``https://host``'s origin."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()
