"""HTTP routes of the consent package, one module per area; ``router`` includes them all.

Routes are thin: each declares its policy (``require``), validates the input (pydantic
bodies of ``consent.schemas``), calls a service, flow or query function and maps the answer
to a response model. ``caller`` resolves who calls and for whom; ``registry`` (organisations,
catalogue, templates), ``operators`` (requests, feed, destruction tasks), ``transfers``
(vault, pulls, tickets), ``consents`` (the participant's consents, signing, verification),
``access`` (history, data held, art. 14 requests), ``obligations`` (152-FZ) and ``staff``
(the operator staff's console) serve them.
"""

from __future__ import annotations

from fastapi import APIRouter

from consent.routes import access, consents, obligations, operators, registry, staff, transfers

router = APIRouter()
for _area in (registry, operators, staff, transfers, consents, access, obligations):
    router.include_router(_area.router)
