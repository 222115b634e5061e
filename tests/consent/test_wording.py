"""Russian words for the ledger's codes (``consent.wording``): legal bases and Moscow dates; the
refusal reasons and states are the one catalogue's (``propusk.messages``)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest

from consent import gate
from consent.catalogue import CATALOGUE_FILE
from consent.models import STATES
from consent.wording import legal_basis_text, moscow_day, moscow_time, sentence
from propusk import messages
from propusk.messages import codes, names

LATIN = re.compile(r"[A-Za-z]")


@pytest.mark.parametrize(
    ("basis", "words"),
    [
        (
            "consent (152-FZ art. 6 part 1 item 1; art. 9)",
            "согласие субъекта персональных данных (п. 1 ч. 1 ст. 6, ст. 9 "
            "Федерального закона № 152-ФЗ)",
        ),
        (
            "written consent (152-FZ art. 11 part 1)",
            "согласие субъекта персональных данных в письменной форме (ч. 1 ст. 11 "
            "Федерального закона № 152-ФЗ)",
        ),
        (
            "consent (152-FZ art. 6 part 1 item 1; Order 649 item 3.6)",
            "согласие субъекта персональных данных (п. 1 ч. 1 ст. 6 Федерального закона "
            "№ 152-ФЗ; п. 3.6 Целевой модели цифровой образовательной среды, утверждённой "
            "приказом Минпросвещения России от 02.12.2019 № 649)",
        ),
        (
            "law (273-FZ art. 98)",
            "требование федерального закона (ст. 98 Федерального закона № 273-ФЗ)",
        ),
        ("согласие родителя", "согласие родителя"),
        ("", "не указано"),
        (None, "не указано"),
    ],
)
def test_legal_bases_read_in_russian(basis, words):
    assert legal_basis_text(basis) == words


def test_every_catalogued_basis_has_russian_words():
    purposes = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))["purposes"]
    for p in purposes:
        assert not LATIN.search(legal_basis_text(p["legal_basis"])), p["legal_basis"]


def test_every_gate_reason_and_state_has_a_title_in_the_catalogue():
    reasons = {v for k, v in vars(gate).items() if k.isupper() and isinstance(v, str)}
    reasons.discard(gate.TRANSFER_ACTION)
    assert reasons <= set(codes.REASONS), reasons - set(codes.REASONS)
    assert set(STATES) <= set(names.STATES), set(STATES) - set(names.STATES)
    assert messages.reason_text("a_reason_from_the_future") == messages.UNKNOWN_REASON


def test_dates_are_moscow_dates():
    late = datetime(2026, 3, 1, 21, 30, tzinfo=UTC)  # already 2 March in Moscow
    assert moscow_time(late) == "02.03.2026 00:30 МСК"
    assert moscow_time(late.isoformat()) == "02.03.2026 00:30 МСК"
    assert moscow_time("2026-03-01T21:30:00") == "02.03.2026 00:30 МСК"  # naive = UTC
    assert moscow_day(late.isoformat()) == "02.03.2026"
    assert moscow_day("2026-03-05") == moscow_day(date(2026, 3, 5)) == "05.03.2026"
    assert moscow_time(None) == moscow_day("") == moscow_time("not a date") == "—"


def test_sentence_capitalises_only_the_first_letter():
    assert sentence("согласие (Федерального закона)") == "Согласие (Федерального закона)"
    assert sentence("") == ""
