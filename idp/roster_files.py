"""Roster files as schools export them: the table's header and rows, whatever the format.

* XLSX (a spreadsheet saved from Excel or LibreOffice; recognised by its ZIP signature): the
  first sheet, read with openpyxl in read-only mode; dates and numbers as a person reads them.
* CSV in UTF-8 (with or without a BOM) or Windows-1251 (Excel's «CSV» on a Russian Windows):
  UTF-8 when the bytes are valid UTF-8, else cp1251; the delimiter (``,``, ``;`` or a tab) is
  sniffed from the header line.

Rows keep the line number a person sees in their program (the CSV line, the sheet's row), so
the errors of ``idp.roster`` name it. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time

from openpyxl import load_workbook

from propusk.errors import ValidationProblem

XLSX_SIGNATURE = b"PK\x03\x04"
BOM = b"\xef\xbb\xbf"
# A spreadsheet unpacks to much more than its file; past this it is not a school's roster.
MAX_UNPACKED = 100 * 1024 * 1024
DELIMITERS = ",;\t"


@dataclass
class Table:
    """A roster file read: its format, the header's cells and the rows (line, cells)."""

    kind: str  # csv | xlsx
    encoding: str | None  # utf-8 | utf-8-sig | cp1251 (CSV only)
    delimiter: str | None  # CSV only
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]

    @property
    def format(self) -> dict:
        return {"kind": self.kind, "encoding": self.encoding, "delimiter": self.delimiter}


def fail(line: int, column: str, message: str) -> None:
    """One error that stops reading the file (422 ``roster-invalid``, as every roster error)."""
    raise ValidationProblem(
        "the roster file cannot be read; nothing was imported",
        type="roster-invalid",
        title="Invalid roster",
        errors=[{"line": line, "field": column, "message": message}],
    )


def read_table(data: bytes | str) -> Table:
    """The table of a roster file (bytes as uploaded; a ``str`` is CSV text already decoded)."""
    if isinstance(data, str):
        return _csv_table(data, "utf-8")
    if data.startswith(XLSX_SIGNATURE):
        return _xlsx_table(data)
    if data.startswith(BOM):
        return _csv_table(_decode(data[len(BOM) :], "utf-8"), "utf-8-sig")
    try:
        return _csv_table(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return _csv_table(_decode(data, "cp1251"), "cp1251")


def _decode(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        fail(
            line,
            "file",
            "файл не читается как текст: сохраните его в кодировке UTF-8 или Windows-1251",
        )
        raise  # unreachable: fail raises


# --- CSV ----------------------------------------------------------------------------------
def _csv_table(text: str, encoding: str) -> Table:
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=DELIMITERS).delimiter
    except csv.Error:  # one column, or nothing to tell by: count them
        delimiter = max(DELIMITERS, key=first.count) if any(d in first for d in DELIMITERS) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        fail(1, "file", "файл пустой")
    except csv.Error:
        fail(1, "file", "первая строка не читается как CSV: проверьте кавычки")
    return Table("csv", encoding, delimiter, header, _csv_rows(reader))


def _csv_rows(reader) -> Iterator[tuple[int, list[str]]]:
    start = reader.line_num + 1
    try:
        for raw in reader:
            line, start = start, reader.line_num + 1
            yield line, raw
    except csv.Error:
        fail(start, "file", f"строка {start} не читается как CSV: проверьте кавычки")


# --- XLSX ---------------------------------------------------------------------------------
def _xlsx_table(data: bytes) -> Table:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(i.file_size for i in archive.infolist())
        if unpacked > MAX_UNPACKED:
            fail(0, "file", "таблица слишком большая для списка школы")
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ValidationProblem:
        raise
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        fail(0, "file", "файл не читается как таблица Excel (XLSX): сохраните его заново")
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        fail(0, "file", "в таблице нет ни одного листа")
    rows = sheet.iter_rows(values_only=True)
    for number, cells in enumerate(rows, start=1):
        header = [_cell(c) for c in cells]
        if any(header):
            return Table("xlsx", None, None, _trim(header), _xlsx_rows(rows, number, len(header)))
    fail(1, "file", "файл пустой")
    raise AssertionError  # unreachable: fail raises


def _xlsx_rows(rows, header_line: int, width: int) -> Iterator[tuple[int, list[str]]]:
    for number, cells in enumerate(rows, start=header_line + 1):
        values = [_cell(c) for c in cells]
        # trailing empty cells are formatting, not data; keep the header's width
        values = _trim(values)
        if len(values) < width:
            values += [""] * (width - len(values))
        yield number, values


def _trim(values: list[str]) -> list[str]:
    while values and values[-1] == "":
        values.pop()
    return values


def _cell(value: object) -> str:
    """A cell as a person reads it: dates ДД.ММ.ГГГГ, whole numbers without «.0»."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.strftime("%d.%m.%Y")
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
