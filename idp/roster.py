"""School roster import: the school admin's confirmed list of students and teachers.

CSV with a header row: ``role,last_name,first_name,middle_name,birth_date,snils,class``
(comma or semicolon, UTF-8 with or without BOM; ``birth_date`` as ``YYYY-MM-DD`` or
``DD.MM.YYYY``). Every row is validated first; any error rejects the whole file (422 with
``errors: [{line, field, message}]``) so a roster is never half-imported. A valid file *replaces*
the school's roster: rows no longer present end (graduation, dismissal) and so do their
statuses; new rows are matched against known people at once and again at each login.

A row that names a known person only by full name and birth date does not claim them when the
person has a status in another school, another SNILS on file, or a namesake
(``idp.roster_matching.name_match_hold``): the report lists such rows under ``review`` with a
reason.
Names and classes that a spreadsheet would run as formulas (beginning with ``= + - @``, a tab or
a carriage return) are refused: the roster is shown and exported again by schools.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from audit import service as audit
from idp import repository as repo
from idp.identity import name_key, norm_name
from idp.models import RosterEntry
from idp.roster_matching import HOLD_MESSAGES, match_roster_entries
from idp.schools import get_school
from idp.statuses import roles_batch, sync_roster_statuses
from propusk import crypto
from propusk.db import new_id, utcnow
from propusk.errors import ValidationProblem
from propusk.settings import Settings, get_settings
from propusk.validators import normalize_snils

REQUIRED = ("role", "last_name", "first_name", "birth_date")
OPTIONAL = ("middle_name", "snils", "class")
ROLE_ALIASES = {
    "student": "student",
    "ученик": "student",
    "обучающийся": "student",
    "teacher": "teacher",
    "учитель": "teacher",
    "педагог": "teacher",
}
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_NAME = 200
MAX_CLASS = 16
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SNILS_INVALID = "СНИЛС указан с ошибкой: нужно 11 цифр, и контрольное число должно сходиться"


@dataclass(frozen=True)
class RosterRow:
    line: int
    role: str
    last_name: str
    first_name: str
    middle_name: str | None
    birth_date: date
    snils: str | None  # 11 digits, checksum verified
    class_name: str | None


@dataclass
class ImportReport:
    school_id: uuid.UUID
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    ended: int = 0
    matched: int = 0
    confirmed_by: str = ""
    review: list[dict] = field(default_factory=list)  # rows held: {line, entry_id, reason, …}

    def as_dict(self) -> dict:
        return {
            "school_id": str(self.school_id),
            "rows": self.rows,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "ended": self.ended,
            "matched": self.matched,
            "confirmed_by": self.confirmed_by,
            "review": self.review,
        }


@dataclass
class _Errors:
    items: list[dict] = field(default_factory=list)

    def add(self, line: int, column: str, message: str) -> None:
        self.items.append({"line": line, "field": column, "message": message})


# --- parsing ------------------------------------------------------------------------------
def parse_roster(csv_text: str) -> list[RosterRow]:
    """Parse and validate every row; raise one 422 listing all errors with line numbers."""
    errors = _Errors()
    if len(csv_text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        _fail([{"line": 0, "field": "file", "message": f"файл больше {MAX_BYTES} байт"}])
    text = csv_text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        _fail([{"line": 1, "field": "file", "message": "файл пустой"}])
    except csv.Error:
        _fail([{"line": 1, "field": "file", "message": "файл не читается как CSV"}])
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing or unknown:
        for c in missing:
            errors.add(1, c, "в заголовке нет этого обязательного столбца")
        for c in unknown:
            errors.add(1, c or "(empty)", "неизвестный столбец")
        _fail(errors.items)
    rows: list[RosterRow] = []
    seen: dict[str, int] = {}
    start = reader.line_num + 1
    try:
        for raw in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in raw):
                continue
            if len(rows) >= MAX_ROWS:
                errors.add(line, "file", f"больше {MAX_ROWS} строк")
                break
            row = _parse_row(line, header, raw, errors)
            if row is not None:
                _check_duplicate(row, seen, errors)
                rows.append(row)
    except csv.Error:
        errors.add(start, "file", "строка не читается как CSV: проверьте кавычки")
    if not rows and not errors.items:
        errors.add(2, "file", "в списке нет ни одной строки")
    if errors.items:
        _fail(errors.items)
    return rows


def _fail(errors: list[dict]) -> None:
    raise ValidationProblem(
        f"the roster has {len(errors)} error(s); nothing was imported",
        type="roster-invalid",
        title="Invalid roster",
        errors=errors,
    )


def _parse_row(line: int, header: list[str], raw: list[str], errors: _Errors) -> RosterRow | None:
    if len(raw) != len(header):
        errors.add(
            line, "row", f"полей в строке — {len(raw)}, а столбцов в заголовке — {len(header)}"
        )
        return None
    cells = {h: v.strip() for h, v in zip(header, raw, strict=True)}
    before = len(errors.items)
    role = ROLE_ALIASES.get(cells["role"].lower())
    if role is None:
        errors.add(
            line, "role", f"неизвестная роль «{cells['role']}»: укажите «ученик» или «учитель»"
        )
    raw_cells = dict(zip(header, raw, strict=True))
    for column in ("last_name", "first_name", "middle_name", "class"):
        if _formula_like(raw_cells.get(column, "")):
            errors.add(
                line,
                column,
                "начинается с =, +, -, @, табуляции или возврата каретки "
                "(так начинается формула таблицы)",
            )
    for column in ("last_name", "first_name", "middle_name"):
        value = cells.get(column, "")
        if column != "middle_name" and not value:
            errors.add(line, column, "обязательное поле не заполнено")
        elif len(value) > MAX_NAME:
            errors.add(line, column, f"длиннее {MAX_NAME} символов")
        elif any(not ch.isprintable() for ch in value):
            errors.add(line, column, "содержит переносы строк или служебные символы")
    birth_date = _parse_date(cells["birth_date"])
    if birth_date is None:
        errors.add(line, "birth_date", "нужна дата в виде ГГГГ-ММ-ДД или ДД.ММ.ГГГГ")
    elif not date(1900, 1, 1) <= birth_date <= utcnow().date():
        errors.add(line, "birth_date", "дата не может быть раньше 1900 года или в будущем")
    snils = None
    if cells.get("snils"):
        try:
            snils = normalize_snils(cells["snils"])
        except ValueError:
            errors.add(line, "snils", SNILS_INVALID)
    class_name = cells.get("class") or None
    if class_name and len(class_name) > MAX_CLASS:
        errors.add(line, "class", f"длиннее {MAX_CLASS} символов")
    if len(errors.items) > before:
        return None
    return RosterRow(
        line=line,
        role=role,
        last_name=cells["last_name"],
        first_name=cells["first_name"],
        middle_name=cells.get("middle_name") or None,
        birth_date=birth_date,
        snils=snils,
        class_name=class_name,
    )


def _formula_like(cell: str) -> bool:
    """A cell a spreadsheet would evaluate when the roster is opened or exported again
    (CSV injection); leading spaces do not hide the formula, as spreadsheets skip them."""
    return cell.lstrip(" ").startswith(FORMULA_START)


def _parse_date(value: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def _check_duplicate(row: RosterRow, seen: dict[str, int], errors: _Errors) -> None:
    """One person appears once: by SNILS, and by full name + birth date."""
    keys = [
        "name:"
        + "|".join(norm_name(v) for v in (row.last_name, row.first_name, row.middle_name))
        + "|"
        + row.birth_date.isoformat()
    ]
    if row.snils:
        keys.append("snils:" + row.snils)
    for key in keys:
        if key in seen:
            column = "snils" if key.startswith("snils:") else "last_name"
            errors.add(row.line, column, f"повторяет строку {seen[key]}")
            return
    for key in keys:
        seen[key] = row.line


# --- import -------------------------------------------------------------------------------
def import_roster(
    session: Session,
    school_id: uuid.UUID,
    csv_text: str,
    actor: str,
    *,
    settings: Settings | None = None,
) -> ImportReport:
    """Validate, then replace the school's roster and sync the statuses it implies.

    The import is the school admin's confirmation: ``actor`` is recorded on every row.
    """
    get_school(session, school_id)
    rows = parse_roster(csv_text)
    kek = (settings or get_settings()).kek_bytes
    now = utcnow()
    report = ImportReport(school_id=school_id, rows=len(rows), confirmed_by=actor)
    current = repo.active_roster(session, school_id)
    by_snils = {(e.role, e.snils_hash): e for e in current if e.snils_hash}
    by_name = {(e.role, e.name_key): e for e in current}
    kept: set[uuid.UUID] = set()
    touched: set[uuid.UUID] = set()
    fresh: list[RosterEntry] = []
    line_of: dict[uuid.UUID, int] = {}
    for row in rows:
        snils_hash = crypto.lookup_hash(kek, "snils", row.snils) if row.snils else None
        key = name_key(kek, row.last_name, row.first_name, row.middle_name, row.birth_date)
        entry = by_snils.get((row.role, snils_hash)) if snils_hash else None
        entry = entry or by_name.get((row.role, key))
        if entry is not None and entry.id not in kept:
            kept.add(entry.id)
            renamed = (entry.snils_hash, entry.name_key) != (snils_hash, key)
            if _update_entry(entry, row, key, snils_hash, kek, actor, now) or renamed:
                report.updated += 1
                if entry.person_id:
                    touched.add(entry.person_id)
                if renamed:  # corrected SNILS or name: the old match may be wrong, match again
                    entry.person_id = None
                    fresh.append(entry)
                    line_of[entry.id] = row.line
            else:
                report.unchanged += 1
            continue
        entry = RosterEntry(
            id=new_id(), school_id=school_id, confirmed_by=actor[:80], confirmed_at=now
        )
        _update_entry(entry, row, key, snils_hash, kek, actor, now)
        session.add(entry)
        fresh.append(entry)
        line_of[entry.id] = row.line
        report.added += 1
    for entry in current:
        if entry.id not in kept:
            entry.ended_at = now
            session.add(entry)
            report.ended += 1
            if entry.person_id:
                touched.add(entry.person_id)
    session.flush()
    matches = match_roster_entries(session, fresh, kek)
    for entry in fresh:
        entry.person_id = matches.found.get(entry.id)
        if entry.person_id:
            report.matched += 1
            touched.add(entry.person_id)
        elif entry.id in matches.held:
            reason = matches.held[entry.id]
            report.review.append(
                {
                    "line": line_of[entry.id],
                    "entry_id": str(entry.id),
                    "reason": reason,
                    "message": HOLD_MESSAGES[reason],
                }
            )
    report.review.sort(key=lambda r: r["line"])
    session.flush()
    with roles_batch(session):
        for person_id in touched:
            sync_roster_statuses(session, person_id, actor=actor)
    audit.record(
        session,
        "roster.imported",
        actor=actor,
        subject=f"school:{school_id}",
        body={
            **{k: v for k, v in report.as_dict().items() if k not in ("school_id", "review")},
            "held": len(report.review),
        },
    )
    session.flush()
    return report


def _update_entry(
    entry: RosterEntry,
    row: RosterRow,
    key: str,
    snils_hash: str | None,
    kek: bytes,
    actor: str,
    now: datetime,
) -> bool:
    """Copy a row onto an entry; True when something the statuses depend on changed."""
    changed = entry.class_name != row.class_name
    entry.role = row.role
    entry.last_name, entry.first_name = row.last_name, row.first_name
    entry.middle_name, entry.birth_date = row.middle_name, row.birth_date
    entry.class_name, entry.name_key = row.class_name, key
    if snils_hash != entry.snils_hash:
        entry.snils_hash = snils_hash
        entry.snils_enc = (
            crypto.encrypt(kek, row.snils.encode(), aad=b"roster-snils:" + str(entry.id).encode())
            if row.snils
            else None
        )
    entry.confirmed_by, entry.confirmed_at = actor[:80], now
    return changed


def roster_of(session: Session, school_id: uuid.UUID) -> list[RosterEntry]:
    """The school's active roster (SNILS stays encrypted; callers show names and classes)."""
    get_school(session, school_id)
    return repo.active_roster(session, school_id)
