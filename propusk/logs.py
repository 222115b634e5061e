"""Logging hygiene: access-log lines never carry codes, secrets or tokens.

uvicorn logs the full request target; OAuth and ESIA redirects put authorization codes,
``client_secret`` signatures and tokens in query strings. This filter rewrites their values to
``***`` before the line is formatted.
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


def install_log_redaction() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactQueryFilter) for f in logger.filters):
        logger.addFilter(RedactQueryFilter())
