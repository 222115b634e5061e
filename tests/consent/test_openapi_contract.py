"""Every consent operation in ``/openapi.json`` documents its answer: a typed 2xx body (a
pydantic model's schema) or a declared non-JSON media type (PDF, HTML), and a description."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute

JSON = "application/json"


def _served(app):
    """Every API route as served (included routers walked, their prefixes applied)."""
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            yield from contexts()
        elif isinstance(route, APIRoute):
            yield route


def _consent_operations(app) -> list[tuple[str, str]]:
    """(method, path) of every schema-visible route served by a module of the consent package."""
    ops = []
    for route in _served(app):
        if not route.include_in_schema or route.endpoint.__module__.split(".")[0] != "consent":
            continue
        ops += [(m.lower(), route.path_format) for m in sorted(set(route.methods) - {"HEAD"})]
    return ops


def _typed(schema: dict[str, Any]) -> bool:
    """A model (``$ref``) or a union of models — not a bare ``{}`` or ``object``."""
    if "$ref" in schema:
        return True
    union = schema.get("anyOf") or schema.get("oneOf")
    return bool(union) and all(_typed(s) for s in union)


def _undocumented(op: dict[str, Any]) -> list[str]:
    """What the operation's answer lacks (empty: fully documented)."""
    wrong = []
    if not (op.get("description") or "").strip():
        wrong.append("no description")
    success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
    if not success:
        wrong.append("no 2xx response")
    for code, response in success.items():
        content = response.get("content") or {}
        if code == "204":
            continue  # no body
        if not content:
            wrong.append(f"{code}: no content")
        for media_type, body in content.items():
            if media_type == JSON and not _typed(body.get("schema") or {}):
                wrong.append(f"{code}: untyped JSON body")
    return wrong


def test_every_consent_operation_documents_its_answer(client, app) -> None:
    doc = client.get("/openapi.json").json()
    ops = _consent_operations(app)
    assert len(ops) >= 40  # the walk sees the included routers
    problems = {
        f"{method.upper()} {path}": _undocumented(doc["paths"][path][method])
        for method, path in ops
    }
    assert {op: wrong for op, wrong in problems.items() if wrong} == {}


def test_downloads_declare_their_media_type(client) -> None:
    doc = client.get("/openapi.json").json()
    pdf = doc["paths"]["/api/v1/consents/{consent_id}/documents/{document_id}.pdf"]["get"]
    assert list(pdf["responses"]["200"]["content"]) == ["application/pdf"]
    page = doc["paths"]["/api/v1/access-requests/{request_id}.html"]["get"]
    assert list(page["responses"]["200"]["content"]) == ["text/html"]


def test_answer_models_are_in_the_components(client) -> None:
    """The answers' models are named (browsable in ``/docs``), e.g. a consent and a decision."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for name in (
        "ConsentOut",
        "TransferDecisionOut",
        "PulledOut",
        "ObligationOut",
        "AccessAnswerOut",
    ):
        assert name in schemas, name
    assert "signing_url" in schemas["ConsentRequestOut"]["properties"]
    # a name another package also uses gets FastAPI's module-qualified name: keep ours unique
    assert [name for name in schemas if name.startswith("consent__")] == []
