"""``/openapi.json`` documents every biometrics operation: a typed 2xx answer and a description.

The operations are taken from the package's routers (not from a list kept here), so a new route
without a response model or a docstring fails this test. Pages are HTML shells kept out of the
schema; if one is ever listed, it must declare its media type.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from biometrics.pages import router as pages
from biometrics.routes import router
from propusk.app import create_app
from propusk.runtime import build_runtime
from tests.support.settings import make_settings


@pytest.fixture(scope="module")
def openapi(sqlite_database) -> dict:
    rt = build_runtime(make_settings(sqlite_database))
    try:
        with TestClient(create_app(runtime=rt)) as client:
            r = client.get("/openapi.json")
    finally:
        rt.dispose()
    assert r.status_code == 200
    return r.json()


def _operations(routes: list) -> Iterator[tuple[str, str]]:
    for route in routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in sorted(route.methods):
                yield route.path, method.lower()


def _resolve(doc: dict, schema: dict) -> dict:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    node = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _typed(doc: dict, schema: dict) -> bool:
    """A named object with declared properties, a list of them, or a union of them — not a
    bare ``object`` (what a route returning ``dict`` gets)."""
    schema = _resolve(doc, schema)
    if schema.get("type") == "array":
        return _typed(doc, schema.get("items", {}))
    if "anyOf" in schema or "oneOf" in schema:
        return all(_typed(doc, s) for s in schema.get("anyOf", schema.get("oneOf")))
    return bool(schema.get("properties"))


def _success(operation: dict) -> list[tuple[str, dict]]:
    return [
        (status, answer)
        for status, answer in operation["responses"].items()
        if status.startswith("2")
    ]


def test_every_biometrics_operation_has_a_typed_answer_and_a_description(openapi):
    ops = list(_operations(router.routes)) + list(_operations(pages.routes))
    assert len(ops) >= 10  # enrolment (3), exam sessions (4), the taker (3)
    for path, method in ops:
        operation = openapi["paths"][path][method]
        where = f"{method.upper()} {path}"
        assert operation.get("description", "").strip(), f"{where}: no description"
        answers = _success(operation)
        assert answers, f"{where}: no 2xx answer documented"
        for status, answer in answers:
            content = answer.get("content", {})
            assert content, f"{where} {status}: no body documented"
            json_body = content.get("application/json")
            if json_body is None:
                continue  # a declared non-JSON media type (an HTML page, a file)
            assert _typed(openapi, json_body["schema"]), f"{where} {status}: untyped answer"


def test_the_pages_stay_out_of_the_schema(openapi):
    for route in pages.routes:
        assert route.path not in openapi["paths"]
