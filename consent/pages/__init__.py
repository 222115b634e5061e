"""Propusk-hosted consent pages (Russian), one module per page family; ``router`` has them all.

``signing`` — the request as a document to sign or refuse (``/sign/{id}``), the refusal's
confirmation and the result; ``receipt`` — a consent's receipt as a readable, printable page
(``/consents/{id}/receipt``); ``verify`` — the public check of a receipt or signed PDF
(``/verify``). ``common`` holds the templates and the Russian words they share.
"""

from __future__ import annotations

from fastapi import APIRouter

from consent.pages import receipt, signing, verify

router = APIRouter(include_in_schema=False)
for _family in (signing, receipt, verify):
    router.include_router(_family.router)
