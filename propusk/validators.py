"""Check digits of the Russian registry numbers every package reads: ИНН, ОГРН, СНИЛС.

One module so that the organisation registry (consent), the roster import and the login (idp)
accept and refuse exactly the same numbers; pure functions, no I/O.
"""

from __future__ import annotations

import unicodedata

INN_WEIGHTS_10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
SNILS_NO_CHECKSUM_UP_TO = 1001998  # numbers up to 001-001-998 were issued without a checksum


def _inn_digit(weights: tuple[int, ...], digits: list[int]) -> int:
    return sum(w * x for w, x in zip(weights, digits, strict=False)) % 11 % 10


def ascii_digits(value: str) -> bool:
    """Only the digits 0-9 (``str.isdigit`` and ``\\d`` also take Arabic-Indic, superscript …
    digits, which ``int`` reads: a number spelled so would pass its check digits and be stored
    as another string than the same number in ASCII)."""
    return value.isascii() and value.isdigit()


def inn_valid(inn: str) -> bool:
    """ИНН check digits (10 digits for a legal entity, 12 for an individual)."""
    if not ascii_digits(inn) or len(inn) not in (10, 12):
        return False
    d = [int(c) for c in inn]
    if len(inn) == 10:
        return _inn_digit(INN_WEIGHTS_10, d) == d[9]
    return _inn_digit(INN_WEIGHTS_11, d) == d[10] and _inn_digit(INN_WEIGHTS_12, d) == d[11]


def ogrn_valid(ogrn: str) -> bool:
    """ОГРН (13 digits, mod 11) or ОГРНИП (15 digits, mod 13) check digit."""
    if not ascii_digits(ogrn) or len(ogrn) not in (13, 15):
        return False
    body, last = int(ogrn[:-1]), int(ogrn[-1])
    modulus = 11 if len(ogrn) == 13 else 13
    return body % modulus % 10 == last


def normalize_snils(value: str) -> str:
    """11 digits of a valid SNILS (``123-456-789 01`` or ``12345678901``); ValueError if not.

    Checksum per the Pension Fund rule: digits 1..9 weighted 9..1, sum mod 101, 100 → 00;
    numbers up to 001-001-998 carry no checksum. The ValueError's words are for the log, never
    for a person: the roster import answers with its own Russian text (``idp.roster``), the
    login drops a number it cannot use.
    """
    digits = "".join(ch for ch in value if ch.isdigit())
    if len(digits) != 11 or any(ch not in "0123456789- " for ch in value.strip()):
        raise ValueError("SNILS must have 11 digits")
    number, check = digits[:9], int(digits[9:])
    if int(number) <= SNILS_NO_CHECKSUM_UP_TO:
        return digits
    total = sum(int(d) * w for d, w in zip(number, range(9, 0, -1), strict=True))
    expected = total % 101
    if expected == 100:
        expected = 0
    if check != expected:
        raise ValueError("SNILS checksum does not match")
    return digits


def snils_valid(value: str) -> bool:
    """Whether ``value`` is a SNILS with a matching checksum (any of the usual spellings)."""
    try:
        normalize_snils(value)
    except ValueError:
        return False
    return True


def one_line(value: str) -> str:
    """One line of text people read (an organisation's or application's name on the consent
    and signing pages): no control character (Cc: line breaks, escapes) and no format
    character (Cf: bidirectional overrides that turn a name round on screen, zero-width
    characters that make two names look alike); ValueError if there is one. A pydantic
    ``AfterValidator`` (``Annotated[str, AfterValidator(one_line)]``): 422 with the
    catalogue's «заполнено неверно»."""
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in value):
        raise ValueError("control or format characters are not allowed")
    return value


# Bidirectional controls: marks, embeddings, overrides, isolates. In a consent's text they make
# the words on screen (and in the signed document) read otherwise than the text stored.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def free_text(value: str) -> str:
    """Text of several lines people read and sign (a consent's wording): line breaks and tabs
    are its own, other control characters and bidirectional controls are refused (ValueError;
    a pydantic ``AfterValidator`` as ``one_line``)."""
    if any(
        ch in BIDI_CONTROLS or (unicodedata.category(ch) == "Cc" and ch not in "\n\r\t")
        for ch in value
    ):
        raise ValueError("control or bidirectional characters are not allowed")
    return value
