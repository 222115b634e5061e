"""What a person reads on a page: its visible text, and the checks that nothing in it is an
internal code (a catalogue key, a UUID, an English word)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

KEY = re.compile(r"\b[a-z_]+\.[a-z_]+\b")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


class _Text(HTMLParser):
    HIDDEN = {"script", "style", "head"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1

    def handle_endtag(self, tag) -> None:
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data) -> None:
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The text of the page's body (tags, scripts and styles stripped), spaces collapsed."""
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def codes_in(text: str) -> dict[str, list[str]]:
    """Internal codes a person should never read: catalogue keys, UUIDs, Latin words. E-mail
    addresses (the operator's contacts) are the one Latin a page may show."""
    text = EMAIL.sub(" ", text)
    found = {
        "keys": KEY.findall(text),
        "uuids": UUID.findall(text),
        "latin": LATIN_WORD.findall(text),
    }
    return {k: v for k, v in found.items() if v}
