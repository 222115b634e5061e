"""152-FZ obligations of the operator (consent-notes §2, checks 9–15) as audited workflows.

Each obligation is a current row plus an append-only event list with actor and reason
(``journal``) and one or more deadline clocks on the production calendar (``clocks``); a clock
is overdue when it is unmet and its instant has passed. Participants file demands (``demands``:
stop processing, access, rectification); operators and the platform record the rest
(``register``: unlawful processing, deferred destruction, incidents, RKN requests) and resolve
every obligation step by step (``resolution``); ``reports`` is what they read back. Some
obligations block categories of a subject (``blocks``): no transfer or processing of them while
blocked — ``blocked_categories(session, subject_id, now, operator_id=None)`` is the contract the
transfer gate and other packages rely on. Queries live in ``repository``.

This module is the package's public API.
"""

from consent.obligations.blocks import blocked_categories
from consent.obligations.demands import file_rectification, file_stop_processing
from consent.obligations.journal import Registrar
from consent.obligations.register import (
    defer_destruction,
    record_incident,
    record_rkn_request,
    record_unlawful,
)
from consent.obligations.reports import of_subject, open_for, overdue, view
from consent.obligations.resolution import obligation_for, resolve

__all__ = [
    "Registrar",
    "blocked_categories",
    "defer_destruction",
    "file_rectification",
    "file_stop_processing",
    "obligation_for",
    "of_subject",
    "open_for",
    "overdue",
    "record_incident",
    "record_rkn_request",
    "record_unlawful",
    "resolve",
    "view",
]
