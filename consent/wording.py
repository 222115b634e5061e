"""Russian words for the ledger's codes, as the documents people read show them.

The catalogue states a purpose's legal basis in a compact reference form (``consent (152-FZ
art. 6 part 1 item 1; art. 9)``); the art. 14 answer, the processing policy and the cabinet
show it in Russian: «согласие субъекта персональных данных (п. 1 ч. 1 ст. 6, ст. 9
Федерального закона № 152-ФЗ)». A basis already written in Russian is shown as it is. The
names of consent states and the gate's refusal reasons are the one catalogue's
(``propusk.messages.state_text``, ``reason_text``). Pure functions, no I/O.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from consent.deadlines import MOSCOW

# The ground of processing (art. 6, 9, 10.1, 11 of 152-FZ), longest phrase first.
GROUNDS = (
    (
        "consent to dissemination",
        "согласие на обработку персональных данных, разрешённых субъектом для распространения",
    ),
    ("written consent", "согласие субъекта персональных данных в письменной форме"),
    ("consent", "согласие субъекта персональных данных"),
    ("contract", "договор, стороной которого является субъект персональных данных"),
    ("legal obligation", "исполнение обязанностей, возложенных на оператора законом"),
    ("law", "требование федерального закона"),
    ("vital interests", "защита жизни, здоровья или иных жизненно важных интересов субъекта"),
)
# The acts a reference names, in the genitive («п. 1 ч. 1 ст. 6 Федерального закона № 152-ФЗ»).
ORDER_649 = (
    "Целевой модели цифровой образовательной среды, утверждённой приказом Минпросвещения "
    "России от 02.12.2019 № 649"
)
LAW = re.compile(r"^(?:(?P<fz>\d+)-FZ|Order\s+(?P<order>\d+))\s*", re.I)
REF = re.compile(
    r"^(?:art\.?\s*(?P<art>[\d.]+))?\s*(?:part\s*(?P<part>[\d.]+))?\s*"
    r"(?:item\s*(?P<item>[\d.]+))?$",
    re.I,
)
LATIN = re.compile(r"[A-Za-z]")


def legal_basis_text(basis: str | None) -> str:
    """The basis in Russian words; an empty basis is «не указано»."""
    if not basis or not basis.strip():
        return "не указано"
    basis = basis.strip()
    if not LATIN.search(basis):
        return basis
    ground, _, rest = basis.partition("(")
    refs = rest.rsplit(")", 1)[0] if rest else ""
    words = _ground(ground.strip())
    cited = _references(refs)
    return f"{words} ({cited})" if cited else words


def sentence(text: str | None) -> str:
    """The text with its first letter capitalised (the rest as it is: «Федерального закона»)."""
    return (text[:1].upper() + text[1:]) if text else ""


def _ground(text: str) -> str:
    lowered = text.lower()
    for phrase, words in GROUNDS:
        if lowered == phrase:
            return words
    return text


def _references(text: str) -> str:
    """``152-FZ art. 6 part 1 item 1; art. 9; Order 649 item 3.6`` → Russian, the references to
    one act grouped before its name."""
    groups: list[tuple[str, list[str]]] = []
    act = ""
    for raw in re.split(r"[;,]", text):
        piece = raw.strip()
        if not piece:
            continue
        law = LAW.match(piece)
        if law:
            act = _act(law)
            piece = piece[law.end() :]
        cited = _citation(piece)
        if groups and groups[-1][0] == act:
            groups[-1][1].append(cited)
        else:
            groups.append((act, [cited]))
    pairs = [(", ".join(c for c in cs if c), act) for act, cs in groups]
    return "; ".join(" ".join(p for p in pair if p) for pair in pairs)


def _act(law: re.Match) -> str:
    if law["fz"]:
        return f"Федерального закона № {law['fz']}-ФЗ"
    if law["order"] == "649":
        return ORDER_649
    return f"приказа № {law['order']}"


def _citation(piece: str) -> str:
    found = REF.match(piece.strip())
    if found is None:
        return piece.strip()
    parts = (("п.", found["item"]), ("ч.", found["part"]), ("ст.", found["art"]))
    return " ".join(f"{word} {value}" for word, value in parts if value)


# --- dates as people here read them: Moscow time --------------------------------------------


def _moment(value: datetime | date | str | None) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return None
    return value


def moscow_time(value: datetime | str | None, mark: str = "МСК") -> str:
    """``2026-03-01T21:30:00+00:00`` → «02.03.2026 00:30 МСК» (a naive time is UTC); the signed
    documents and their pages write the zone as ``(МСК)``."""
    at = _moment(value)
    if at is None:
        return "—"
    if not isinstance(at, datetime):
        return at.strftime("%d.%m.%Y")
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(MOSCOW).strftime(f"%d.%m.%Y %H:%M {mark}")


def moscow_day(value: datetime | date | str | None) -> str:
    """A calendar day «ДД.ММ.ГГГГ»; a moment is taken on Moscow's calendar."""
    at = _moment(value)
    if at is None:
        return "—"
    if isinstance(at, datetime):
        at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(MOSCOW).date()
    return at.strftime("%d.%m.%Y")
