"""Reading a settlement file as a stream of normalised rows: never the whole file in memory.

Every failure names the line (the header is line 1; for a workbook, the sheet's row) and happens before
the importing transaction commits, so a bad file leaves nothing behind.
"""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Callable, Iterator
from typing import IO

from gateway.reconciliation.errors import BadSettlementFile
from gateway.reconciliation.layouts import Layout, SettlementRow

MAX_ROWS = 5_000_000
CHUNK = 1 << 20

Progress = Callable[[int], None]  # bytes of the file read so far


def sha256_of(file: IO[bytes]) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    while chunk := file.read(CHUNK):
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def read_rows(layout: Layout, file: IO[bytes], progress: Progress | None = None) -> Iterator[tuple[int, SettlementRow]]:
    file.seek(0)
    if layout.format == "xlsx":
        yield from _xlsx_rows(layout, file, progress)
    else:
        yield from _csv_rows(layout, file, progress)


def _read(layout: Layout, line: int, values: dict[str, object]) -> SettlementRow:
    try:
        return layout.read(values)
    except ValueError as exc:
        raise BadSettlementFile(line, str(exc)) from None


def _check_header(layout: Layout, header: list[str]) -> None:
    if [h.strip() for h in header] != list(layout.columns):
        raise BadSettlementFile(
            1, f"the header is not {layout.provider}'s layout; expected: {','.join(layout.columns)}"
        )


def _csv_rows(layout: Layout, file: IO[bytes], progress: Progress | None) -> Iterator[tuple[int, SettlementRow]]:
    # utf-8-sig: Excel writes a byte order mark before UTF-8 CSV; anything not UTF-8 is refused.
    stream = io.TextIOWrapper(file, encoding="utf-8-sig", errors="strict", newline="")
    reader = csv.reader(stream, strict=True)
    columns = layout.columns
    width = len(columns)
    count = 0
    try:
        try:
            header = next(reader)
        except StopIteration:
            raise BadSettlementFile(1, "the file is empty") from None
        _check_header(layout, header)
        for values in reader:
            line = reader.line_num
            if len(values) != width:
                raise BadSettlementFile(line, f"{len(values)} fields where the layout has {width}")
            count += 1
            if count > MAX_ROWS:
                raise BadSettlementFile(line, f"more than {MAX_ROWS} rows")
            yield line, _read(layout, line, dict(zip(columns, values, strict=True)))
            if progress is not None and count % 10_000 == 0:
                progress(file.tell())
    except UnicodeDecodeError:
        raise BadSettlementFile(reader.line_num + 1, "the file is not UTF-8 text") from None
    except csv.Error as exc:
        raise BadSettlementFile(reader.line_num, f"not CSV: {exc}") from None
    finally:
        stream.detach()  # the caller owns the file
    if progress is not None:
        progress(file.tell())


def _xlsx_rows(layout: Layout, file: IO[bytes], progress: Progress | None) -> Iterator[tuple[int, SettlementRow]]:
    from openpyxl import load_workbook

    try:
        # read_only: the sheet is read row by row from the zip, never built in memory.
        book = load_workbook(file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise BadSettlementFile(1, f"not an Excel workbook ({layout.provider}'s file is .xlsx)") from None
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise BadSettlementFile(1, "the sheet is empty")
        _check_header(layout, ["" if h is None else str(h) for h in header])
        columns = layout.columns
        line = 1
        for values in rows:
            line += 1
            if all(v is None for v in values):
                continue  # a workbook may carry formatted but empty rows at its end
            if line > MAX_ROWS + 1:
                raise BadSettlementFile(line, f"more than {MAX_ROWS} rows")
            if len(values) > len(columns) and any(v is not None for v in values[len(columns) :]):
                raise BadSettlementFile(line, "cells beyond the layout's columns")
            yield line, _read(layout, line, dict(zip(columns, values, strict=False)))
            if progress is not None and line % 10_000 == 0:
                progress(file.tell())
    finally:
        book.close()
    if progress is not None:
        progress(file.tell())
