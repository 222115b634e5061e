"""Typed answers of the policies and audit packages: every operation is described in English
and ``/openapi.json`` documents each 2xx body, JSON ones by a pydantic model, plain-text ones
by their media type (204 answers have no body)."""

from __future__ import annotations

import re
import typing
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.responses import PlainTextResponse
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from propusk.app import create_app
from propusk.runtime import build_runtime
from tests.support.settings import make_settings

PACKAGES = ("policies", "audit")
CYRILLIC = re.compile("[А-Яа-яЁё]")
SCHEMA_REF = re.compile(r"^#/components/schemas/\w+$")


def _served_routes(app) -> Iterator[Any]:
    """Every API route as served (included routers walked, their prefixes applied)."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            yield from contexts()
        elif isinstance(route, APIRoute):
            yield route


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[list[Any], dict]]:
    """The packages' routes and the schema as served at /openapi.json (no database needed)."""
    runtime = build_runtime(make_settings("sqlite://"))
    try:
        app = create_app(runtime=runtime)
        routes = [
            r
            for r in _served_routes(app)
            if r.include_in_schema and r.endpoint.__module__.split(".")[0] in PACKAGES
        ]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate operation ids elsewhere in the app
            doc = TestClient(app).get(app.openapi_url or "/openapi.json").json()
        yield routes, doc
    finally:
        runtime.dispose()


def _operations(served) -> Iterator[tuple[str, Any, dict]]:
    routes, doc = served
    for route in routes:
        path = route.path_format
        for method in sorted(set(route.methods) - {"HEAD"}):
            yield f"{method} {path}", route, doc["paths"][path][method.lower()]


def _is_model(annotation: typing.Any) -> bool:
    """A pydantic model or a list of them."""
    if typing.get_origin(annotation) is list:
        (annotation,) = typing.get_args(annotation)
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _documented_model(schema: dict) -> bool:
    items = schema.get("items", {}) if schema.get("type") == "array" else schema
    return bool(SCHEMA_REF.match(items.get("$ref", "")))


def test_both_packages_are_walked(served) -> None:
    modules = {route.endpoint.__module__ for route in served[0]}
    assert modules == {"policies.routes", "audit.routes"}
    assert len(list(_operations(served))) >= 13


def test_every_operation_has_an_english_description(served) -> None:
    missing = [
        name
        for name, _route, op in _operations(served)
        if not (op.get("description") or "").strip() or CYRILLIC.search(op["description"])
    ]
    assert missing == []


def test_every_2xx_body_is_documented(served) -> None:
    wrong = []
    for name, route, op in _operations(served):
        answers = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        if not answers:
            wrong.append((name, "no 2xx answer"))
        for code, answer in answers.items():
            content = answer.get("content") or {}
            if code == "204":
                if content:
                    wrong.append((name, "a 204 answer documents a body"))
            elif "application/json" in content:
                if not _is_model(route.response_model):
                    wrong.append((name, "JSON answer without a pydantic response model"))
                if not _documented_model(content["application/json"].get("schema", {})):
                    wrong.append((name, "JSON answer without a model schema"))
            elif route.response_class is PlainTextResponse:
                schema = (content.get("text/plain") or {}).get("schema")
                if schema != {"type": "string"} or not answer.get("description"):
                    wrong.append((name, "plain-text answer without its media type"))
            else:
                wrong.append((name, f"{code} answer with no documented body"))
    assert wrong == []
