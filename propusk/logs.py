"""Logging hygiene: access-log lines never carry codes, secrets or tokens, and the service's
own outbound request lines never name a person.

uvicorn logs the full request target; OAuth and ESIA redirects put authorization codes,
``client_secret`` signatures and tokens in query strings. This filter rewrites their values to
``***`` before the line is formatted.

httpx logs every outbound request's URL at INFO (the level production runs at). The ESIA REST
paths name the person whose data is read — ``/rs/prns/{oid}``, ``/rs/prns/{oid}/kids/{oid}`` —
so each login wrote the person's and their children's ESIA ids, with a time and a request id,
into the logs (found by the log scan of the test run, ``tests/support/logscan.py``). Those
segments become ``***`` too; the line keeps the method, host, status and timing worth having.
"""

from __future__ import annotations

import logging
import re

SENSITIVE = (
    "code",
    "client_secret",
    "client_assertion",
    "token",
    "access_token",
    "refresh_token",
    "id_token",
    "id_token_hint",
    "code_verifier",
    "state",
    "nonce",
    "code_challenge",
    "ticket",
    "snils",
)
_NAMES = "|".join(SENSITIVE)
_PATTERN = re.compile(rf"([?&](?:{_NAMES})=)[^&#\s]*", re.IGNORECASE)


def redact_target(target: str) -> str:
    return _PATTERN.sub(r"\1***", target)


class RedactQueryFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_target(args[2]), *args[3:])
        return True


# a path segment after prns/ or kids/ is a person's ESIA id (ESIA REST API)
_PERSON_SEGMENT = re.compile(r"(/(?:prns|kids)/)[^/?#\s]+", re.IGNORECASE)


def redact_outbound(url: str) -> str:
    return _PERSON_SEGMENT.sub(r"\1***", redact_target(url))


class RedactOutboundFilter(logging.Filter):
    """httpx's ``HTTP Request: %s %s "%s %d %s"`` records: the URL (second argument)
    redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 2:
            record.args = (args[0], redact_outbound(str(args[1])), *args[2:])
        return True


def install_log_redaction() -> None:
    for name, kind in (("uvicorn.access", RedactQueryFilter), ("httpx", RedactOutboundFilter)):
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())
