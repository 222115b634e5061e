"""What a person reads on a page, and the words they must never read there.

``visible_text(html)`` is the page's text as a reader meets it: no ``<head>``, scripts or
styles, and none of the machine values meant to be copied, not read (elements of class
``hash`` or ``jws``: ids, hashes, the receipt's JWS, addresses). ``machine_words(text)`` lists
what gives a machine away there: a key of the consent catalogue (``person.fullname``), a
protocol word (``esia:pwd``, ``null``) or any Latin word other than an abbreviation (``PDF``,
``SHA``, ``JWS``). The browser tests compute the same text in the page (``VISIBLE_JS``).
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

CATALOGUE = Path(__file__).parents[2] / "consent" / "catalogue.json"
SKIPPED_TAGS = {"head", "script", "style", "template"}
SKIPPED_CLASSES = {"hash", "jws"}
INLINE = {"a", "abbr", "b", "code", "em", "i", "label", "small", "span", "strong"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]*[A-Za-z0-9]|[A-Za-z]")
ABBREVIATION = re.compile(r"[A-Z][A-Z0-9-]*")


def catalogue_keys() -> list[str]:
    data = json.loads(CATALOGUE.read_text(encoding="utf-8"))
    return [item["key"] for part in ("categories", "purposes") for item in data[part]]


KEYS = re.compile("|".join(re.escape(k) for k in sorted(catalogue_keys(), key=len, reverse=True)))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is its text skipped
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag not in INLINE:
            self.parts.append(" ")  # a block (or a line break) separates words
        classes = set((dict(attrs).get("class") or "").split())
        skipped = tag in SKIPPED_TAGS or bool(classes & SKIPPED_CLASSES)
        if tag in VOID:
            return
        self.stack.append(skipped or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag) -> None:
        if tag not in INLINE:
            self.parts.append(" ")
        if tag not in VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


def machine_words(text: str) -> list[str]:
    """Catalogue keys, protocol words and Latin words that are not abbreviations."""
    found = KEYS.findall(text)
    for word in LATIN_WORD.findall(text):
        if not ABBREVIATION.fullmatch(word):
            found.append(word)
    return found


# The same text in a browser: the body without the machine values (a function for evaluate()).
VISIBLE_JS = """() => {
  const copy = document.body.cloneNode(true);
  copy.querySelectorAll("script, style, template, .hash, .jws").forEach((e) => e.remove());
  return copy.textContent.replace(/\\s+/g, " ").trim();
}"""


# Internal codes a person should never read on a document page (the art. 14 answer, the policy).
KEY_LIKE = re.compile(r"\b[a-z_]+\.[a-z_]+\b")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
LATIN_RUN = re.compile(r"[A-Za-z]{2,}")


def codes_in(text: str) -> dict[str, list[str]]:
    """Catalogue-like keys, UUIDs and Latin words in ``text``. E-mail addresses (the operator's
    contacts) are the one Latin a page may show."""
    text = EMAIL.sub(" ", text)
    found = {
        "keys": KEY_LIKE.findall(text),
        "uuids": UUID.findall(text),
        "latin": LATIN_RUN.findall(text),
    }
    return {k: v for k, v in found.items() if v}
