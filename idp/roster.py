"""School roster import: the school admin's confirmed list of students and teachers.

The file is what schools export (``idp.roster_files``): CSV with ``,`` or ``;`` in UTF-8 (with
or without BOM) or Windows-1251, or an XLSX sheet. A header row names the columns, in English
(``role,last_name,first_name,middle_name,birth_date,snils,class``) or Russian («Роль»,
«Фамилия», «Имя», «Отчество», «Дата рождения», «СНИЛС», «Класс»); ``birth_date`` as
``ДД.ММ.ГГГГ`` or ``ГГГГ-ММ-ДД``. Every row is validated first; any error rejects the whole file
(422 with ``errors: [{line, field, message}]``, the message in Russian naming the column and
the value) so a roster is never half-imported. A valid file *replaces* the school's roster:
rows no longer present end (graduation, dismissal) and so do their statuses; new rows are
matched against known people at once and again at each login.

Two steps for the console: ``preview_roster`` works out what the file would add, change and end
(``plan_import``; nothing written) and returns a token bound to the file's SHA-256, the school,
the admin and the roster's version; ``apply_preview`` imports the same bytes only with it.
``import_roster`` is the API's one-step import.

A row that names a known person only by full name and birth date does not claim them when the
person has a status in another school, another SNILS on file, or a namesake
(``idp.roster_matching.name_match_hold``): the report lists such rows under ``review`` with a
reason.
Names and classes that a spreadsheet would run as formulas (beginning with ``= + - @``, a tab or
a carriage return) are refused: the roster is shown and exported again by schools.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from audit import service as audit
from idp import repository as repo
from idp.identity import name_key, norm_name
from idp.models import RosterEntry
from idp.roster_files import Table, read_table
from idp.roster_matching import HOLD_MESSAGES, match_roster_entries
from idp.schools import get_school
from idp.statuses import roles_batch, sync_roster_statuses
from propusk import crypto
from propusk.db import new_id, utcnow
from propusk.errors import Conflict, ValidationProblem
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
# Column names as schools write them (Russian headers of an export, or the API's English keys).
HEADER_ALIASES = {
    "роль": "role",
    "категория": "role",
    "фамилия": "last_name",
    "имя": "first_name",
    "отчество": "middle_name",
    "дата рождения": "birth_date",
    "дата_рождения": "birth_date",
    "снилс": "snils",
    "класс": "class",
}
COLUMN_LABELS = {
    "role": "роль",
    "last_name": "фамилия",
    "first_name": "имя",
    "middle_name": "отчество",
    "birth_date": "дата рождения",
    "snils": "СНИЛС",
    "class": "класс",
}
DATE_SHAPES = (
    re.compile(r"\d{4}-\d{1,2}-\d{1,2}", re.ASCII),
    re.compile(r"\d{1,2}\.\d{1,2}\.\d{4}", re.ASCII),
)


def _column(cell: str) -> str:
    key = " ".join(cell.strip().lower().replace("ё", "е").split())
    return HEADER_ALIASES.get(key, key)


def _shown(value: str, limit: int = 40) -> str:
    """A cell quoted in an error message (long ones cut)."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def parse_roster(source: str | bytes) -> list[RosterRow]:
    """Parse and validate every row of a roster file (CSV text or the uploaded bytes: CSV in
    UTF-8 or cp1251, or XLSX); raise one 422 listing all errors with line numbers."""
    return parse_table(read_roster_file(source))


def read_roster_file(source: str | bytes) -> Table:
    size = len(source.encode("utf-8", "surrogatepass")) if isinstance(source, str) else len(source)
    if size > MAX_BYTES:
        _fail([{"line": 0, "field": "file", "message": f"файл больше {MAX_BYTES} байт"}])
    return read_table(source)


def parse_table(table: Table) -> list[RosterRow]:
    errors = _Errors()
    header = [_column(h) for h in table.header]
    missing = [c for c in REQUIRED if c not in header]
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if missing or unknown:
        for c in missing:
            errors.add(1, c, f"в заголовке нет обязательного столбца «{COLUMN_LABELS[c]}»")
        for c in unknown:
            errors.add(
                1,
                c or "(empty)",
                f"неизвестный столбец «{_shown(c)}»" if c else "столбец без названия",
            )
        _fail(errors.items)
    rows: list[RosterRow] = []
    seen: dict[str, int] = {}
    for line, raw in table.rows:
        if not any(cell.strip() for cell in raw):
            continue
        if len(rows) >= MAX_ROWS:
            errors.add(line, "file", f"больше {MAX_ROWS} строк")
            break
        row = _parse_row(line, header, raw, errors)
        if row is not None:
            _check_duplicate(row, seen, errors)
            rows.append(row)
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
            line,
            "role",
            f"роль «{_shown(cells['role'])}» неизвестна: укажите «ученик» или «учитель»",
        )
    raw_cells = dict(zip(header, raw, strict=True))
    for column in ("last_name", "first_name", "middle_name", "class"):
        if _formula_like(raw_cells.get(column, "")):
            errors.add(
                line,
                column,
                f"{COLUMN_LABELS[column]} начинается с =, +, -, @, табуляции или возврата "
                "каретки (так начинается формула таблицы)",
            )
    for column in ("last_name", "first_name", "middle_name"):
        value, label = cells.get(column, ""), COLUMN_LABELS[column]
        if column != "middle_name" and not value:
            errors.add(line, column, f"{label}: обязательное поле не заполнено")
        elif len(value) > MAX_NAME:
            errors.add(line, column, f"{label}: длиннее {MAX_NAME} символов")
        elif any(not ch.isprintable() for ch in value):
            errors.add(line, column, f"{label}: содержит переносы строк или служебные символы")
    birth_date = _birth_date(line, cells["birth_date"], errors)
    snils = None
    if cells.get("snils"):
        value = cells["snils"]
        if value.isdigit() and len(value) in (9, 10):  # a spreadsheet dropped leading zeros
            value = value.zfill(11)
        try:
            snils = normalize_snils(value)
        except ValueError:
            errors.add(
                line,
                "snils",
                f"СНИЛС «{_shown(cells['snils'])}» указан с ошибкой: "
                "нужно 11 цифр, и контрольное число должно сходиться",
            )
    class_name = cells.get("class") or None
    if class_name and len(class_name) > MAX_CLASS:
        errors.add(line, "class", f"класс «{_shown(class_name)}» длиннее {MAX_CLASS} символов")
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


def _birth_date(line: int, value: str, errors: _Errors) -> date | None:
    label = f"дата рождения «{_shown(value)}»"
    if not value:
        errors.add(line, "birth_date", "дата рождения: обязательное поле не заполнено")
        return None
    birth_date = _parse_date(value)
    if birth_date is None:
        if any(shape.fullmatch(value) for shape in DATE_SHAPES):
            errors.add(line, "birth_date", f"{label} — такой даты нет")
        else:
            errors.add(line, "birth_date", f"{label}: нужна дата в виде ДД.ММ.ГГГГ или ГГГГ-ММ-ДД")
        return None
    if not date(1900, 1, 1) <= birth_date <= utcnow().date():
        errors.add(
            line, "birth_date", f"{label}: дата не может быть раньше 1900 года или в будущем"
        )
        return None
    return birth_date


def _formula_like(cell: str) -> bool:
    """A cell a spreadsheet would evaluate when the roster is opened or exported again
    (CSV injection); leading spaces do not hide the formula, as spreadsheets skip them."""
    return cell.lstrip(" ").startswith(FORMULA_START)


def _parse_date(value: str) -> date | None:
    """ГГГГ-ММ-ДД or ДД.ММ.ГГГГ (a roster of 20 000 rows: no strptime per row)."""
    iso, dotted = DATE_SHAPES
    if iso.fullmatch(value):
        y, m, d = value.split("-")
    elif dotted.fullmatch(value):
        d, m, y = value.split(".")
    else:
        return None
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
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
            errors.add(row.line, column, f"человек повторяет строку {seen[key]}")
            return
    for key in keys:
        seen[key] = row.line


# --- plan: what an import would do ------------------------------------------------------
@dataclass
class Change:
    """One row of the file against the current roster: ``entry`` is None for a new row."""

    row: RosterRow
    entry: RosterEntry | None
    key: str
    snils_hash: str | None
    changed: tuple[str, ...] = ()  # columns that differ from the entry: class, name, snils

    @property
    def renamed(self) -> bool:
        """Name, birth date or SNILS corrected: the old match may be wrong, match again."""
        return bool({"name", "snils"} & set(self.changed))


@dataclass
class Plan:
    """An import worked out against the current roster; nothing written."""

    rows: list[RosterRow]
    added: list[Change] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    unchanged: list[Change] = field(default_factory=list)
    ended: list[RosterEntry] = field(default_factory=list)
    version: str = ""  # the current roster's fingerprint (``roster_fingerprint``)


def plan_import(session: Session, school_id: uuid.UUID, rows: list[RosterRow], kek: bytes) -> Plan:
    """Which rows would be added, updated (what changes), left as they are, and which entries
    would end. Reads only."""
    plan = Plan(rows=rows)
    current = repo.active_roster(session, school_id)
    by_snils = {(e.role, e.snils_hash): e for e in current if e.snils_hash}
    by_name = {(e.role, e.name_key): e for e in current}
    kept: set[uuid.UUID] = set()
    for row in rows:
        snils_hash = crypto.lookup_hash(kek, "snils", row.snils) if row.snils else None
        key = name_key(kek, row.last_name, row.first_name, row.middle_name, row.birth_date)
        entry = by_snils.get((row.role, snils_hash)) if snils_hash else None
        entry = entry or by_name.get((row.role, key))
        if entry is None or entry.id in kept:
            plan.added.append(Change(row, None, key, snils_hash))
            continue
        kept.add(entry.id)
        changed = tuple(
            name
            for name, differs in (
                ("class", entry.class_name != row.class_name),
                ("name", entry.name_key != key),
                ("snils", entry.snils_hash != snils_hash),
            )
            if differs
        )
        (plan.updated if changed else plan.unchanged).append(
            Change(row, entry, key, snils_hash, changed)
        )
    plan.ended = [e for e in current if e.id not in kept]
    plan.version = roster_fingerprint(current)
    return plan


def roster_fingerprint(entries: list[RosterEntry]) -> str:
    """The version of a roster (its active entries): every import confirms its rows anew."""
    parts = sorted(f"{e.id}:{e.confirmed_at.isoformat()}" for e in entries)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def preview_token(
    school_id: uuid.UUID, file_sha256: str, actor: str, fingerprint: str, kek: bytes
) -> str:
    """Binds a preview to this file, school, admin and roster version: apply checks it."""
    message = "|".join(
        (
            "roster-preview",
            str(school_id),
            actor,
            file_sha256,
            fingerprint,
        )
    )
    return hmac.new(kek, message.encode(), hashlib.sha256).hexdigest()


@dataclass
class Preview:
    """What importing the file would do (``plan``), how it was read, and the token to apply
    it; or, for a file with mistakes, its per-line ``errors`` (no plan, no token)."""

    school_id: uuid.UUID
    file_sha256: str
    format: dict | None
    plan: Plan | None = None
    token: str | None = None
    errors: list[dict] = field(default_factory=list)


def preview_roster(
    session: Session,
    school_id: uuid.UUID,
    data: bytes,
    actor: str,
    *,
    settings: Settings | None = None,
) -> Preview:
    """Read and check the file, and work out the import; nothing is written. A file with
    mistakes is a preview too: its errors, line by line (the check itself succeeded)."""
    get_school(session, school_id)
    kek = (settings or get_settings()).kek_bytes
    digest = hashlib.sha256(data).hexdigest()
    table = None
    try:
        table = read_roster_file(data)
        rows = parse_table(table)
    except ValidationProblem as exc:
        if exc.type != "roster-invalid":
            raise
        found = table.format if table else None
        return Preview(school_id, digest, found, errors=exc.extra["errors"])
    plan = plan_import(session, school_id, rows, kek)
    token = preview_token(school_id, digest, actor, plan.version, kek)
    return Preview(school_id, digest, table.format, plan, token)


def apply_preview(
    session: Session,
    school_id: uuid.UUID,
    data: bytes,
    token: str,
    actor: str,
    *,
    settings: Settings | None = None,
) -> ImportReport:
    """Import the file a preview was made of, if the roster has not changed since (409
    ``roster-preview-mismatch`` for another file, school, admin or a roster imported since)."""
    get_school(session, school_id)
    kek = (settings or get_settings()).kek_bytes
    plan = plan_import(session, school_id, parse_roster(data), kek)
    expected = preview_token(school_id, hashlib.sha256(data).hexdigest(), actor, plan.version, kek)
    if not hmac.compare_digest(expected, token or ""):
        raise Conflict(
            "this file, school or roster is not the one previewed; preview it again",
            type="roster-preview-mismatch",
        )
    return _carry_out(session, school_id, plan, actor, kek)


# --- import -------------------------------------------------------------------------------
def import_roster(
    session: Session,
    school_id: uuid.UUID,
    source: str | bytes,
    actor: str,
    *,
    settings: Settings | None = None,
) -> ImportReport:
    """Validate, then replace the school's roster and sync the statuses it implies.

    The import is the school admin's confirmation: ``actor`` is recorded on every row.
    """
    get_school(session, school_id)
    kek = (settings or get_settings()).kek_bytes
    plan = plan_import(session, school_id, parse_roster(source), kek)
    return _carry_out(session, school_id, plan, actor, kek)


def _carry_out(
    session: Session, school_id: uuid.UUID, plan: Plan, actor: str, kek: bytes
) -> ImportReport:
    """Write a plan: rows added, updated and ended, matched, statuses synced, audited."""
    now = utcnow()
    report = ImportReport(school_id=school_id, rows=len(plan.rows), confirmed_by=actor)
    report.unchanged = len(plan.unchanged)
    report.updated, report.added, report.ended = len(plan.updated), len(plan.added), len(plan.ended)
    touched: set[uuid.UUID] = set()
    fresh: list[RosterEntry] = []
    line_of: dict[uuid.UUID, int] = {}
    for change in plan.unchanged:
        _update_entry(change.entry, change, kek, actor, now)
    for change in plan.updated:
        entry = change.entry
        _update_entry(entry, change, kek, actor, now)
        if entry.person_id:
            touched.add(entry.person_id)
        if change.renamed:
            entry.person_id = None
            fresh.append(entry)
            line_of[entry.id] = change.row.line
    for change in plan.added:
        entry = RosterEntry(
            id=new_id(), school_id=school_id, confirmed_by=actor[:80], confirmed_at=now
        )
        _update_entry(entry, change, kek, actor, now)
        session.add(entry)
        fresh.append(entry)
        line_of[entry.id] = change.row.line
    for entry in plan.ended:
        entry.ended_at = now
        session.add(entry)
        if entry.person_id:
            touched.add(entry.person_id)
    session.flush()
    matches = match_roster_entries(session, fresh, kek)
    for entry in fresh:
        found = matches.found.get(entry.id)
        if found:  # (assigning None to the others would rewrite every fresh row)
            entry.person_id = found
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
    entry: RosterEntry, change: Change, kek: bytes, actor: str, now: datetime
) -> None:
    """Copy a row onto an entry, confirmed by ``actor`` now."""
    row = change.row
    entry.role = row.role
    entry.last_name, entry.first_name = row.last_name, row.first_name
    entry.middle_name, entry.birth_date = row.middle_name, row.birth_date
    entry.class_name, entry.name_key = row.class_name, change.key
    if change.snils_hash != entry.snils_hash:
        entry.snils_hash = change.snils_hash
        entry.snils_enc = (
            crypto.encrypt(kek, row.snils.encode(), aad=b"roster-snils:" + str(entry.id).encode())
            if row.snils
            else None
        )
    entry.confirmed_by, entry.confirmed_at = actor[:80], now


def roster_of(session: Session, school_id: uuid.UUID) -> list[RosterEntry]:
    """The school's active roster (SNILS stays encrypted; callers show names and classes)."""
    get_school(session, school_id)
    return repo.active_roster(session, school_id)
