"""Judging a page the way a person sees it: every browser test calls ``check_page``.

``watch(page)`` (right after ``new_page``) collects what went wrong in the page: console
errors (Content-Security-Policy refusals among them), the ``securitypolicyviolation`` events
(``tests/e2e/csp.py``'s recorder) and uncaught page errors. ``check_page(page, name)`` then
looks at the page at each width (default 1280 and 390 px):

* no console or page error so far (each is reported once);
* no horizontal scroll: ``document.documentElement.scrollWidth <= window.innerWidth`` (the
  widest elements are named);
* no machine key visible in ``document.body.innerText``: the catalogue's keys
  (``consent/catalogue.json``) and anything shaped like one (``person.fullname``,
  ``no_consent``, ``esia:pwd``), once e-mails, URLs and host names are taken out;
* no English: Latin words of three letters or more outside ``ALLOWED_WORDS`` (PDF, ESIA,
  OAuth …; a test passes ``allow_words`` for more);
* axe-core (``tests/e2e/node``, installed by ``make node-deps``): no violation of impact
  serious or critical;

and saves a full-page screenshot to ``build/screenshots/<test module>/<name>-<width>.png``
(before judging, so a failing page can be looked at). One ``PageProblems`` (an
``AssertionError``) lists every problem found, with the widths it was seen at.

axe-core is injected through the DevTools protocol (``Runtime.evaluate`` on a CDP session),
not with ``page.add_script_tag``: that adds an inline ``<script>``, which the pages' policy
(``script-src 'self'``, no ``unsafe-inline``) refuses — and the refusal would itself be a CSP
violation of the page. DevTools evaluation is not subject to the page's policy, so the page is
checked under its real CSP (no ``bypass_csp`` context). Every script run in the page is a
function (``"() => …"``): expression strings would need ``eval``, which the policy forbids
(AGENTS.md, "Playwright checks pass functions").
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.csp import RECORDER

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "e2e" / "node" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "build" / "screenshots"
CATALOGUE = ROOT / "consent" / "catalogue.json"
SERIOUS = ("serious", "critical")

# Latin words a Russian page may show: abbreviations and names people know in Latin letters.
ALLOWED = "PDF ESIA OAuth OpenID OIDC JWS JWT JSON URL API CSV XLSX UTF HTTP HTTPS SHA QR PNG JPEG"
ALLOWED += " JPG WebP"
ALLOWED_WORDS = frozenset(ALLOWED.lower().split())
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+")
HOST = re.compile(
    r"\b(?:[a-z0-9-]+\.)+(?:ru|su|com|org|net|io|example|test|local|localhost|gov|edu)\b(?::\d+)?"
    r"(?:/\S*)?",
    re.IGNORECASE,
)
FILE_NAME = re.compile(r"\b[\w-]+\.(?:pdf|png|jpe?g|csv|json|txt|xml|html?|zip|sig|p7s)\b", re.I)
KEY_SHAPE = re.compile(r"\b[a-z]+(?:[._][a-z]+)+\b|\b[a-z]+:[a-z][a-z_]*\b")
LATIN_WORD = re.compile(r"(?<![\w-])[A-Za-z]{3,}(?![\w-])")


def _catalogue_keys() -> frozenset[str]:
    data = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return frozenset(item["key"] for part in ("categories", "purposes") for item in data[part])


CATALOGUE_KEYS = _catalogue_keys()


# -- watching ---------------------------------------------------------------------------------


class PageWatch:
    """What went wrong in one page since ``watch``: console errors (CSP refusals included),
    ``securitypolicyviolation`` events and uncaught page errors."""

    def __init__(self, page) -> None:
        self.page = page
        page.add_init_script(RECORDER)  # records the CSP violations of every document
        self.errors: list[str] = []
        self._seen_csp = 0
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "") if message.location else ""
        if where.endswith("/favicon.ico"):
            return  # the browser's own request for a site icon, not the page's
        self.errors.append(f"console error: {message.text} ({where})")

    def take(self) -> list[str]:
        """The problems not reported yet (each is reported once)."""
        found, self.errors = self.errors, []
        violations = _evaluate(self.page, "() => window.__cspViolations || []") or []
        fresh = violations[self._seen_csp :]
        self._seen_csp = len(violations)
        return found + [f"CSP violation: {v}" for v in fresh]


_WATCHES: dict[int, PageWatch] = {}


def watch(page) -> PageWatch:
    """Start watching ``page`` (call before its first ``goto``); idempotent."""
    key = id(page)
    if key not in _WATCHES or _WATCHES[key].page is not page:
        _WATCHES[key] = PageWatch(page)
    return _WATCHES[key]


def _evaluate(page, function: str, arg=None):
    """``page.evaluate`` of a function (never an expression string: the CSP has no eval)."""
    assert function.lstrip().startswith(("(", "async")), function
    return page.evaluate(function, arg)


# -- what a person reads ---------------------------------------------------------------------


def _strip_addresses(text: str) -> str:
    for pattern in (EMAIL, URL, HOST, FILE_NAME):
        text = pattern.sub(" ", text)
    return text


def machine_keys(text: str) -> list[str]:
    """Catalogue keys and key-shaped tokens visible in ``text`` (e-mails, URLs, hosts and file
    names aside)."""
    plain = _strip_addresses(text)
    found = [k for k in CATALOGUE_KEYS if re.search(rf"(?<![\w.]){re.escape(k)}(?![\w])", plain)]
    found += [m.group(0) for m in KEY_SHAPE.finditer(plain) if m.group(0) not in found]
    return sorted(set(found))


def english_words(text: str, allow: frozenset[str] = frozenset()) -> list[str]:
    """Latin words of 3+ letters that are not an allowed abbreviation or name (the words of a
    machine key are that key's problem, not reported again)."""
    allowed = ALLOWED_WORDS | {w.lower() for w in allow}
    plain = KEY_SHAPE.sub(" ", _strip_addresses(text))
    return sorted({w for w in LATIN_WORD.findall(plain) if w.lower() not in allowed})


def _context(text: str, token: str, width: int = 40) -> str:
    at = text.find(token)
    if at < 0:
        return token
    snippet = text[max(0, at - width) : at + len(token) + width].replace("\n", " ⏎ ")
    return f"{token!r} in «…{snippet}…»"


# -- layout and accessibility ----------------------------------------------------------------

OVERFLOW = """() => {
  const limit = window.innerWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.right > limit + 1 && r.width > 0) {
      const id = el.id ? "#" + el.id : "";
      const cls = el.classList.length ? "." + [...el.classList].join(".") : "";
      wide.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(r.right)} px)`);
    }
  }
  return {scroll: document.documentElement.scrollWidth, inner: limit, wide: wide.slice(0, 8)};
}"""

AXE_RUN = """async () => {
  const result = await window.axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => ({
      target: n.target.join(" "), html: n.html.slice(0, 160),
    })),
    count: v.nodes.length,
  }));
}"""


def _inject_axe(page) -> None:
    """axe-core into the page through DevTools (the page's CSP does not apply there)."""
    if _evaluate(page, "() => typeof window.axe !== 'undefined'"):
        return
    if not AXE.exists():
        raise AssertionError(f"axe-core is not installed ({AXE}): run `make node-deps`")
    cdp = page.context.new_cdp_session(page)
    try:
        answer = cdp.send("Runtime.evaluate", {"expression": AXE.read_text(encoding="utf-8")})
    finally:
        cdp.detach()
    if answer.get("exceptionDetails"):
        raise AssertionError(f"axe-core did not load: {answer['exceptionDetails']}")


def axe_violations(page) -> list[dict]:
    """axe-core's violations of impact serious or critical on the page as it is now."""
    _inject_axe(page)
    return [v for v in _evaluate(page, AXE_RUN) if v["impact"] in SERIOUS]


# -- the check ---------------------------------------------------------------------------------


class PageProblems(AssertionError):
    """A page is not fit to show: ``problems`` lists each (with the widths it was seen at).
    Its own type, so a test can expect it (``xfail(raises=PageProblems)``) without hiding any
    other failure."""

    def __init__(self, name: str, url: str, problems: list[str]) -> None:
        self.name, self.url, self.problems = name, url, problems
        listing = "\n  ".join(problems)
        super().__init__(f"{name} ({url}) is not fit to show:\n  {listing}")


@dataclass
class PageReport:
    """What ``check_page`` saw: the screenshots taken and the page's text at the last width."""

    name: str
    url: str
    screenshots: list[Path] = field(default_factory=list)
    text: str = ""
    problems: list[str] = field(default_factory=list)


def _module_dir() -> Path:
    current = os.environ.get("PYTEST_CURRENT_TEST", "")  # "tests/e2e/test_x.py::test_y (call)"
    module = Path(current.split("::", 1)[0]).stem if current else "adhoc"
    return SCREENSHOTS / module


def _problems_now(page, allow_words: frozenset[str]) -> tuple[list[str], str]:
    """The problems of the page at its current width, and its text."""
    problems = watch(page).take()
    layout = _evaluate(page, OVERFLOW)
    if layout["scroll"] > layout["inner"]:
        problems.append(
            f"horizontal scroll ({layout['scroll']} px wide at {layout['inner']}); "
            f"widest: {', '.join(layout['wide']) or '?'}"
        )
    text = _evaluate(page, READABLE_TEXT)
    problems += [f"machine key visible: {_context(text, k)}" for k in machine_keys(text)]
    problems += [f"English visible: {_context(text, w)}" for w in english_words(text, allow_words)]
    for v in axe_violations(page):
        nodes = "; ".join(f"{n['target']} {n['html']}" for n in v["nodes"])
        problems.append(
            f"axe {v['impact']} {v['id']} ({v['help']}) on {v['count']} node(s): {nodes}"
        )
    return problems, text


# What a person reads: the body's rendered text without the machine values a page shows to be
# copied or typed, not read (``<code>`` — a file's column names, a protocol's codes —, the
# ``.hash`` and ``.jws`` boxes).
READABLE_TEXT = """() => {
  let text = document.body.innerText;
  for (const node of document.body.querySelectorAll("code, .hash, .jws")) {
    const shown = node.innerText;
    if (shown) text = text.split(shown).join(" ");
  }
  return text;
}"""


def _by_width(found: dict[str, list[int]]) -> list[str]:
    """Each problem once, with the widths it was seen at."""
    return [f"{', '.join(map(str, widths))} px: {problem}" for problem, widths in found.items()]


def check_page(
    page,
    name: str,
    *,
    widths: tuple[int, ...] = (1280, 390),
    allow_words: frozenset[str] | set[str] = frozenset(),
    height: int = 800,
) -> PageReport:
    """Look at ``page`` at each width as a person would (see the module docstring); raise one
    ``PageProblems`` listing every problem, after the screenshots are saved."""
    watch(page)
    report = PageReport(name, page.url)
    folder = _module_dir()
    folder.mkdir(parents=True, exist_ok=True)
    found: dict[str, list[int]] = {}
    for width in widths:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_load_state("networkidle")
        shot = folder / f"{name}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        report.screenshots.append(shot)
        problems, report.text = _problems_now(page, frozenset(allow_words))
        for problem in problems:
            found.setdefault(problem, []).append(width)
    report.problems = _by_width(found)
    if report.problems:
        raise PageProblems(name, report.url, report.problems)
    return report
