"""Consent's pydantic models, one module per area of the API (the routes' ``consent.routes``
modules follow the same split): ``base`` (strict bodies, answer base, ISO time types),
``registry`` (organisations, catalogue, templates), ``ledger`` (consent requests, consents,
events, receipts, destruction tasks), ``signing`` (documents, signatures, verification),
``transfers`` (vault, pulls, tickets, a subject's history and data), ``access`` (art. 14) and
``obligations`` (152-FZ demands and the register)."""
