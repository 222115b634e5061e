"""The one catalogue of Russian messages (``propusk.messages``) covers every code the code base
answers with, reads Russian, and reaches the pages (``GET /api/v1/messages``).

The sources are read, not imported: every problem type raised (``Problem`` and its subclasses,
their class defaults, the edge layers' own bodies), every refusal reason of the transfer gate,
every biometric result and reason the exam and enrolment answers carry, every OAuth error code
the login endpoints answer with. A new code without a Russian text fails here.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from propusk import messages
from propusk.messages import codes, names, problems, validation

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("audit", "policies", "idp", "consent", "biometrics", "propusk")
PROBLEM_PREFIX = "https://propusk.dev/problems/"

# Latin a person may read: abbreviations and file formats, nothing else
LATIN_ALLOWED = {"PDF", "ID", "JPEG", "PNG", "WEBP", "CSV", "XLSX"}
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
LATIN_WORD = re.compile(r"[A-Za-z]+")


def _sources(*packages: str) -> Iterator[tuple[Path, ast.Module]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _parents(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def _function_of(node: ast.AST, parents: dict) -> ast.FunctionDef | None:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return node
    return None


def _strings(expr: ast.AST, scope: ast.AST | None) -> set[str] | None:
    """The string values ``expr`` can take (constants, conditionals, names assigned from them in
    the enclosing function); None when it cannot be told from the source."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        a, b = _strings(expr.body, scope), _strings(expr.orelse, scope)
        return None if a is None or b is None else a | b
    if isinstance(expr, ast.BoolOp):
        parts = [_strings(v, scope) for v in expr.values]
        return None if any(p is None for p in parts) else set().union(*parts)
    if isinstance(expr, ast.Name) and scope is not None:
        found: set[str] = set()
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == expr.id for t in node.targets
            ):
                values = _strings(node.value, None)
                if values is None:
                    return None
                found |= values
        return found or None
    return None


def _check_russian(section: str, texts: dict[str, str]) -> None:
    for key, text in texts.items():
        assert CYRILLIC.search(text), f"{section}[{key}] is not Russian: {text!r}"
        latin = set(LATIN_WORD.findall(text)) - LATIN_ALLOWED
        assert not latin, f"{section}[{key}] has Latin words {latin}: {text!r}"


# --- problem types --------------------------------------------------------------------------------


def _problem_classes() -> dict[str, str | None]:
    """Problem and every subclass defined anywhere → its default type (class attribute)."""
    defaults: dict[str, str | None] = {"Problem": "bad-request"}
    trees = [tree for _, tree in _sources(*PACKAGES)]
    changed = True
    while changed:
        changed = False
        for tree in trees:
            for node in ast.walk(tree):
                if not isinstance(node, ast.ClassDef) or node.name in defaults:
                    continue
                if not any(_name(b) in defaults for b in node.bases):
                    continue
                defaults[node.name] = _class_type(node)
                changed = True
    return defaults


def _class_type(node: ast.ClassDef) -> str | None:
    """``status, type, title = 404, "not-found", "Not found"`` (or ``type = "…"``)."""
    for stmt in node.body:
        if not isinstance(stmt, ast.Assign):
            continue
        for target in stmt.targets:
            if isinstance(target, ast.Name) and target.id == "type":
                return stmt.value.value
            if isinstance(target, ast.Tuple) and isinstance(stmt.value, ast.Tuple):
                for t, v in zip(target.elts, stmt.value.elts, strict=True):
                    if isinstance(t, ast.Name) and t.id == "type":
                        return v.value
    return None


def _organization_kinds() -> set[str]:
    """``consent.parties.organization_of(session, id, "operator")``: raises ``not-<kind>``."""
    kinds = set()
    for _, tree in _sources(*PACKAGES):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) == "organization_of":
                kinds |= _strings(node.args[2], None) or set()
    return kinds


# problem types built at run time whose values the source alone does not show
DYNAMIC_TYPES = {
    "'not-' + kind": lambda: {"not-" + k for k in _organization_kinds()},
    # Starlette's HTTPException: 404 and 405 have texts, any other status its status's sentence
    "'http-' + str(exc.status_code)": lambda: {"http-404", "http-405"},
}


def _problem_uri(node: ast.AST) -> bool:
    """``TYPE_BASE + "slug"`` or ``"https://propusk.dev/problems/" + "slug"``."""
    if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
        return False
    left = node.left
    base = (isinstance(left, ast.Name) and left.id == "TYPE_BASE") or (
        isinstance(left, ast.Constant) and left.value == PROBLEM_PREFIX
    )
    return base and isinstance(node.right, ast.Constant)


def raised_problem_types() -> dict[str, str]:
    """Every problem type the sources can answer with → where (file:line)."""
    classes = _problem_classes()
    found: dict[str, str] = {t: "class default" for t in classes.values() if t}
    unknown = []
    for path, tree in _sources(*PACKAGES):
        parents = _parents(tree)
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            # the edge layers' own problem bodies: TYPE_BASE + "…" / "https://…/problems/" + …
            if _problem_uri(node):
                found[node.right.value] = where
            if not (isinstance(node, ast.Call) and _name(node.func) in classes):
                continue
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            if "type" not in kw:
                if default := classes[_name(node.func)]:
                    found.setdefault(default, where)
                continue
            values = _strings(kw["type"], _function_of(node, parents))
            if values is None:
                source = ast.unparse(kw["type"])
                if source not in DYNAMIC_TYPES:
                    unknown.append(f"{where}: type={source}")
                    continue
                values = DYNAMIC_TYPES[source]()
            for value in values:
                found.setdefault(value, where)
    assert not unknown, f"problem types the test cannot read (add them to DYNAMIC_TYPES): {unknown}"
    return found


def _guard_problems() -> set[str]:
    from propusk import guards

    return set(guards.DETAILS)


def test_every_problem_type_raised_has_a_russian_text():
    raised = raised_problem_types()
    raised.update(dict.fromkeys(_guard_problems(), "propusk/guards.py"))
    # the scan finds what it should (a broken scan would pass on an empty set)
    for expected in ("not-found", "transfer-refused", "body-too-large", "signing-keys-missing"):
        assert expected in raised, expected
    assert {"not-operator", "not-supplier", "bad-frame", "insufficient-scope"} <= set(raised)
    missing = {t: w for t, w in raised.items() if t not in problems.PROBLEMS}
    assert not missing, f"problem types without a Russian text in propusk/messages: {missing}"


def test_problem_text_falls_back_to_the_status_never_to_english():
    not_found = problems.PROBLEMS["not-found"]
    assert messages.problem_text(PROBLEM_PREFIX + "not-found", 404) == not_found
    assert messages.problem_text("not-found") == problems.PROBLEMS["not-found"]
    assert messages.problem_text("no-such-type", 409) == problems.STATUSES[409]
    assert messages.problem_text("http-418", 418) == problems.STATUSES[400]  # the 4xx class
    assert messages.problem_text(None, 599) == problems.STATUSES[503]
    assert messages.problem_text(None, None) == problems.GENERIC
    for status in (400, 401, 403, 404, 409, 413, 422, 429, 500, 503):
        assert status in problems.STATUSES


# --- the transfer gate's refusal reasons ----------------------------------------------------------


def gate_reasons() -> set[str]:
    """The module constants of ``consent.gate`` that are reason codes (snake_case values)."""
    tree = ast.parse((ROOT / "consent" / "gate.py").read_text(encoding="utf-8"))
    reasons = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            value = node.value.value
            if isinstance(value, str) and re.fullmatch(r"[a-z]+(_[a-z]+)+", value):
                reasons.add(value)
    return reasons


def test_every_gate_refusal_reason_has_a_russian_text():
    from consent import gate

    reasons = gate_reasons()
    assert {gate.NO_CONSENT, gate.SUPPLIER_NOT_NAMED, gate.PROCESSING_BLOCKED} <= reasons
    assert set(gate._STATE_REASONS.values()) <= reasons
    assert reasons <= set(codes.REASONS), reasons - set(codes.REASONS)
    assert messages.reason_text("consent_withdrawn") == "согласие отозвано"
    assert CYRILLIC.search(messages.reason_text("a_reason_from_the_future"))


# --- biometric results, flags and reasons ---------------------------------------------------------


def biometric_codes() -> set[str]:
    """Codes the exam and enrolment answers carry and the pages show."""
    from biometrics import proctoring, quality, schemas

    found = set(proctoring.RESULTS) | set(quality.REASONS)
    found |= set(schemas.StartOut.model_fields["reason"].annotation.__args__[0].__args__)
    for _, tree in _sources("biometrics"):
        parents = _parents(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) == "ImageRejected":
                found |= _strings(node.args[0], None) or set()
            if isinstance(node, ast.Call) and _name(node.func) == "LivenessResult":
                found |= _strings(node.args[1], None) or set()
            if isinstance(node, ast.Dict):  # {"path_reason": …}, {"reason": …}, {"result": …}
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value in (
                        "reason",
                        "path_reason",
                        "result",
                    ):
                        # every constant the value may take (``a or ("x" if … else None)``)
                        found |= {
                            c.value
                            for c in ast.walk(value)
                            if isinstance(c, ast.Constant) and isinstance(c.value, str)
                        }
            if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
                function = _function_of(node, parents)
                if function is not None and function.name == "_choose_path":
                    found |= _strings(node.value.elts[1], None) or set()
    return found - {"biometric", "manual"}  # paths, not reasons: the proctor page names them


def test_every_biometric_result_and_reason_has_a_russian_text():
    found = biometric_codes()
    expected = {"replayed_frames", "too_dark", "not_an_image", "not_started", "mismatch"}
    assert expected <= found, expected - found
    assert found <= set(codes.CHECKS), found - set(codes.CHECKS)
    assert messages.check_text("replayed_frames") == (
        "кадры повторяются — камера не передаёт живое изображение"
    )


# --- OAuth error codes ----------------------------------------------------------------------------

# where the OAuth endpoints and pages name an error code: function → index of the argument
OAUTH_ARGS = {"oauth_error": 0, "error_answer": 0, "_bearer_error": 0, "_refuse": 3}
OAUTH_DYNAMIC = {"f'{name}_not_supported'": {"request_not_supported", "request_uri_not_supported"}}


def oauth_codes() -> set[str]:
    from authlib.oauth2 import rfc6749

    from idp.esia.errors import ESIA_CODES

    found = {c.oauth_error for c in ESIA_CODES.values()}
    unknown = []
    for path, tree in _sources("idp"):
        parents = _parents(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Return):
                function = _function_of(node, parents)
                if function is not None and function.name == "_rp_error" and node.value:
                    found |= _strings(node.value, None) or set()
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            cls = getattr(rfc6749, name or "", None)
            if name and name.endswith("Error") and getattr(cls, "error", None):  # not the base
                found.add(cls.error)
            args = []
            if name in OAUTH_ARGS and len(node.args) > OAUTH_ARGS[name]:
                args.append(node.args[OAUTH_ARGS[name]])
            args += [k.value for k in node.keywords if k.arg == "error"]
            function = _function_of(node, parents)
            params = {a.arg for a in function.args.args} if function else set()
            for arg in args:
                values = _strings(arg, function)
                if values is not None:
                    found |= values
                elif ast.unparse(arg) in OAUTH_DYNAMIC:
                    found |= OAUTH_DYNAMIC[ast.unparse(arg)]
                elif not (isinstance(arg, ast.Name) and arg.id in params):  # passed through
                    unknown.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(arg)}")
    assert not unknown, f"OAuth error codes the test cannot read: {unknown}"
    return found


def test_every_oauth_error_code_has_a_russian_text():
    found = oauth_codes()
    assert {"invalid_request", "access_denied", "invalid_client", "invalid_grant"} <= found
    assert {"temporarily_unavailable", "server_error", "request_not_supported"} <= found
    assert found <= set(codes.OAUTH), found - set(codes.OAUTH)


# --- names of states, roles, signers -------------------------------------------------------------


def test_every_consent_state_role_and_signer_has_a_russian_name():
    from consent.models import STATES
    from consent.signatures import required_roles
    from idp.models import ROLES

    assert set(STATES) <= set(names.STATES), set(STATES) - set(names.STATES)
    assert set(STATES) <= set(names.STATE_HELP), set(STATES) - set(names.STATE_HELP)
    assert set(ROLES) <= set(names.ROLES), set(ROLES) - set(names.ROLES)
    signers = set().union(*(required_roles(g) for g in ("under14", "14to17", "adult")))
    assert signers == set(names.SIGNERS)
    assert messages.state_text("withdrawn") == "отозвано"
    assert messages.state_text("a_state_from_the_future") == messages.UNKNOWN_STATE
    assert messages.state_help(None) == ""
    assert messages.role_text("student") == "ученик"
    assert messages.signer_text("guardian") == "законный представитель"
    for text in names.STATE_HELP.values():  # sentences
        assert text[0].isupper() and text.endswith("."), text


# --- the pages' scripts keep no copy of the catalogue ---------------------------------------------

SCRIPTS = sorted(
    path
    for package in PACKAGES
    for path in (ROOT / package).rglob("*.js")
    if "node_modules" not in path.parts
)
# a section of the catalogue → its codes; a literal naming two of one section's codes with Russian
# values is a copy (one shared code — «refused» of an obligation, «not_started» of an exam attempt
# — is another vocabulary that happens to share a word)
COPIED_SECTIONS = {
    "reasons": set(codes.REASONS),
    "checks": set(codes.CHECKS),
    "oauth": set(codes.OAUTH),
    "problems": set(problems.PROBLEMS),
    "states": set(names.STATES),
    "roles": set(names.ROLES),
    "signers": set(names.SIGNERS),
}
# a key after «{» or «,» (comments skipped): a name or a quoted string, then one colon
KEY = re.compile(
    r"""(?:\s|/\*.*?\*/|//[^\n]*\n)*(?:([A-Za-z_$][\w$]*)|"([^"\\]*)"|'([^'\\]*)')\s*:(?!:)"""
)


def object_literals(source: str) -> Iterator[tuple[int, set[str], bool]]:
    """Every ``{…}`` of a script: (line, the keys at its top level, whether a string inside it
    is Russian). Strings, template literals and comments are skipped over, not parsed."""
    frames: list[dict] = []  # open braces: {"line", "keys", "russian", "expr"}
    texts: list[int] = []  # template literals whose text is being read (their ${…} pop it)
    i, n = 0, len(source)

    def russian() -> None:
        for frame in frames:
            frame["russian"] = True

    def key_at(j: int) -> None:
        found = KEY.match(source, j)
        if found and not frames[-1]["expr"]:
            frames[-1]["keys"].add(next(g for g in found.groups() if g is not None))

    while i < n:
        ch = source[i]
        if texts:  # the text of a template literal
            if ch == "\\":
                i += 1
            elif ch == "`":
                texts.pop()
            elif source.startswith("${", i):
                texts.pop()  # back to code until the expression's own «}»
                frames.append({"line": 0, "keys": set(), "russian": False, "expr": True})
                i += 1
            elif CYRILLIC.match(ch):
                russian()
            i += 1
            continue
        if source.startswith("//", i):
            i = source.find("\n", i) if "\n" in source[i:] else n
            continue
        if source.startswith("/*", i):
            i = source.index("*/", i) + 2
            continue
        if ch in "\"'":
            end = i + 1
            while source[end] != ch:
                end += 2 if source[end] == "\\" else 1
            if CYRILLIC.search(source[i:end]):
                russian()
            i = end
        elif ch == "`":
            texts.append(i)
        elif ch == "{":
            line = source.count("\n", 0, i) + 1
            frames.append({"line": line, "keys": set(), "russian": False, "expr": False})
            key_at(i + 1)
        elif ch == "}" and frames:
            frame = frames.pop()
            if frame["expr"]:
                texts.append(i)  # the template literal's text goes on
            else:
                yield frame["line"], frame["keys"], frame["russian"]
        elif ch == "," and frames:
            key_at(i + 1)
        i += 1
    assert not texts and not frames, "the scan lost its place in the script"


def catalogue_copies(source: str) -> list[str]:
    """The object literals of a script that map codes of one catalogue section to Russian."""
    found = []
    for line, keys, russian in object_literals(source):
        for section, known in COPIED_SECTIONS.items():
            shared = keys & known
            if russian and len(shared) >= 2:
                found.append(f"line {line}: {section} {sorted(shared)}")
    return found


def test_the_scan_finds_a_copy_and_leaves_badge_classes_and_other_vocabularies_alone():
    copies = catalogue_copies(
        'const STATES = {\n  given: ["действует", "ok"], withdrawn: ["отозвано", "stop"],\n};\n'
        "function f() { return { 'photo-quality': `Снимок ${n + 1}: плохой`, \"photos-differ\": "
        '"разные люди" }; }\n'
        "const R = { no_face: 'лицо не найдено', /* a { brace */ too_dark: `темно ${x ? 1 : 2}` };"
    )
    assert copies == [
        "line 1: states ['given', 'withdrawn']",
        "line 4: problems ['photo-quality', 'photos-differ']",
        "line 5: checks ['no_face', 'too_dark']",
    ], copies
    assert not catalogue_copies('const BADGES = { given: "ok", withdrawn: "stop" };')
    assert not catalogue_copies('const D = { allowed: ["передано", "ok"], refused: ["нет", "x"] };')
    assert not catalogue_copies("const C = { a: 1 };  // given: «действует», withdrawn: «отозвано»")


def test_no_page_script_redeclares_the_catalogues_codes():
    """Pages read the names of codes from the catalogue (``static/api.js``): a script's own map
    of gate reasons, biometric codes, problem types, consent states, roles or signers would drift
    from it."""
    assert len(SCRIPTS) >= 8 and ROOT / "biometrics" / "static" / "cabinet.js" in SCRIPTS
    literals = sum(1 for path in SCRIPTS for _ in object_literals(path.read_text(encoding="utf-8")))
    assert literals > 50  # the scan reads the scripts (a broken one would find nothing)
    copies = {
        str(path.relative_to(ROOT)): found
        for path in SCRIPTS
        if (found := catalogue_copies(path.read_text(encoding="utf-8")))
    }
    assert not copies, f"use propuskStateText / propuskCheckText / … (static/api.js): {copies}"


# --- the texts themselves -------------------------------------------------------------------------


def test_every_text_is_russian_with_no_latin_words():
    _check_russian("problems", problems.PROBLEMS)
    _check_russian("statuses", {str(k): v for k, v in problems.STATUSES.items()})
    _check_russian("reasons", codes.REASONS)
    _check_russian("oauth", codes.OAUTH)
    _check_russian("checks", codes.CHECKS)
    _check_russian("states", names.STATES)
    _check_russian("state_help", names.STATE_HELP)
    _check_russian("roles", names.ROLES)
    _check_russian("signers", names.SIGNERS)
    _check_russian("fields", validation.FIELD_LABELS)
    for kind, template in {**validation.TEMPLATES, "default": validation.DEFAULT}.items():
        filled = {kind + ".field": template.field, kind: template.plain}
        _check_russian("validation", {k: re.sub(r"\{\w+", "{", v) for k, v in filled.items()})
        assert "{field}" in template.field and "{field}" not in template.plain, kind
    phrases = (codes.REASONS, codes.OAUTH, codes.CHECKS, names.STATES, names.ROLES, names.SIGNERS)
    for section in phrases:  # phrases, not sentences
        for key, text in section.items():
            lower = text[0].islower() or text.startswith("Пропуск")  # the service's name
            assert lower and not text.endswith("."), (key, text)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"loc": ["body", "correction"], "type": "missing"}, "Заполните поле «Верные сведения»."),
        (
            {"loc": ["body", "proof"], "type": "string_too_short", "ctx": {"min_length": 1}},
            "Заполните поле «Подтверждение».",
        ),
        (
            {"loc": ["body", "reason"], "type": "string_too_long", "ctx": {"max_length": 21}},
            "Поле «Причина» слишком длинное: можно не больше 21 символа.",
        ),
        (
            {"loc": ["body", "proof"], "type": "string_too_long", "ctx": {"max_length": 4000}},
            "Поле «Подтверждение» слишком длинное: можно не больше 4000 символов.",
        ),
        (
            {"loc": ["body", "categories"], "type": "too_short", "ctx": {"min_length": 1}},
            "В поле «Категории данных» выберите хотя бы одно значение.",
        ),
        (
            {"loc": ["body", "categories"], "type": "too_long", "ctx": {"max_length": 3}},
            "В поле «Категории данных» можно не больше 3 значений.",
        ),
        (
            {"loc": ["body", "identity_document", "type"], "type": "enum"},
            "В поле «Вид документа» выберите одно из предложенных значений.",
        ),
        ({"loc": ["query", "subject"], "type": "uuid_parsing"}, None),
        ({"loc": ["body", "sauce"], "type": "extra_forbidden"}, "В запросе есть лишнее поле."),
        ({"loc": ["body", 12], "type": "json_invalid"}, "Данные запроса не удалось прочитать."),
        (
            {"loc": ["body", "reason"], "type": "string_too_long"},
            "Поле «Причина» заполнено неверно.",
        ),
        ({"loc": ["body", "x"], "type": "brand_new_type"}, "Данные заполнены неверно."),
    ],
)
def test_validation_text(error, expected):
    text = messages.validation_text(error)
    if expected is not None:
        assert text == expected
    assert CYRILLIC.search(text) and not LATIN_WORD.search(text), text


def test_plural_agrees_with_the_number():
    forms = ("символа", "символов", "символов")
    assert [validation.plural(n, "a", "b", "c") for n in (1, 2, 5, 11, 12, 21, 22, 25, 111)] == [
        "a", "b", "c", "c", "c", "a", "b", "c", "c",
    ]  # fmt: skip
    assert validation.fill("не больше {n|символа|символов|символов}", {"n": 1}) == (
        "не больше 1 " + forms[0]
    )
    assert validation.fill("{n} и {m}", {"n": 1}) is None


# --- a real 422 from a real route -----------------------------------------------------------------


def test_a_real_422_reads_russian_and_names_the_fields(harness):
    from tests.support.consent_world import years_ago

    person, _ = harness.person(years_ago(30))
    r = harness.client.post(
        "/api/v1/me/obligations/rectification",
        json={"categories": [], "correction": "", "proof": "п" * 4001, "colour": "red"},
        headers=harness.person_headers(person),
    )
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"] == PROBLEM_PREFIX + "validation-error"
    texts = {tuple(e["loc"]): messages.validation_text(e) for e in body["errors"]}
    assert texts == {
        ("body", "categories"): "В поле «Категории данных» выберите хотя бы одно значение.",
        ("body", "correction"): "Заполните поле «Верные сведения».",
        ("body", "proof"): "Поле «Подтверждение» слишком длинное: можно не больше 4000 символов.",
        ("body", "colour"): "В запросе есть лишнее поле.",
    }, body["errors"]
    # the answer carries only the numeric limits of pydantic's ctx
    proof = next(e for e in body["errors"] if e["loc"] == ["body", "proof"])
    assert proof["ctx"] == {"max_length": 4000}
    assert messages.problem_text(body["type"], 422) == problems.PROBLEMS["validation-error"]


# --- the route the pages read ---------------------------------------------------------------------


def test_the_catalogue_route_is_public_cacheable_and_secured(client):
    r = client.get("/api/v1/messages")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == json.loads(messages.catalogue().model_dump_json())
    assert r.json()["problems"]["not-found"] == problems.PROBLEMS["not-found"]
    assert r.json()["checks"]["replayed_frames"] == codes.CHECKS["replayed_frames"]
    assert r.headers["cache-control"] == "public, max-age=3600"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    again = client.get("/api/v1/messages", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == r.headers["etag"]
    stale = client.get("/api/v1/messages", headers={"If-None-Match": '"elsewhere"'})
    assert stale.status_code == 200
    operation = client.get("/openapi.json").json()["paths"]["/api/v1/messages"]["get"]
    assert operation["x-public"] is True and "security" not in operation
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/Catalogue"}
