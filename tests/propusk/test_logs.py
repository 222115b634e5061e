"""Access-log lines never carry codes, secrets or tokens; outbound request lines never name a
person."""

from __future__ import annotations

import logging

import httpx

from propusk.logs import (
    RedactOutboundFilter,
    RedactQueryFilter,
    install_log_redaction,
    redact_target,
)


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


def test_outbound_request_lines_name_no_person():
    """httpx logs the service's ESIA REST calls, whose paths carry the person's and the
    children's ESIA ids: the installed filter leaves method, host and status."""
    install_log_redaction()
    assert any(isinstance(f, RedactOutboundFilter) for f in logging.getLogger("httpx").filters)
    url = httpx.URL("https://esia.gosuslugi.ru/rs/prns/1000400027/kids/1000400031?embed=x")
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: %s %s "%s %d %s"',
        ("GET", url, "HTTP/1.1", 200, "OK"),
        None,
    )
    assert RedactOutboundFilter().filter(record)
    line = record.getMessage()
    assert "1000400027" not in line and "1000400031" not in line
    assert line == (
        'HTTP Request: GET https://esia.gosuslugi.ru/rs/prns/***/kids/***?embed=x "HTTP/1.1 200 OK"'
    )
    token = httpx.URL("https://esia.example/aas/oauth2/v2/ac?client_secret=SIG&code=c1")
    assert "SIG" not in redact_outbound_line(token) and "c1" not in redact_outbound_line(token)


def redact_outbound_line(url: httpx.URL) -> str:
    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "%s %s", ("GET", url), None)
    RedactOutboundFilter().filter(record)
    return record.getMessage()
