"""Access-log lines never carry codes, secrets or tokens."""

from __future__ import annotations

import logging

from propusk.logs import RedactQueryFilter, redact_target


def test_redacts_codes_secrets_and_tokens():
    target = (
        "/login/esia/callback?code=eyJhbGciOi.abc&state=s1&x=1"
        "&client_secret=SIG&refresh_token=rt&SNILS=112-233-445%2095"
    )
    out = redact_target(target)
    for secret in ("eyJhbGciOi", "SIG", "rt", "s1", "112-233"):
        assert secret not in out
    assert "x=1" in out and out.startswith("/login/esia/callback?code=***")


def test_filter_rewrites_uvicorn_access_records():
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", "/cb?code=abc&x=1", "1.1", 302),
        None,
    )
    assert RedactQueryFilter().filter(record)
    assert "abc" not in record.getMessage()
    assert "/cb?code=***&x=1" in record.getMessage()
