"""A report as JSON, CSV or an Excel workbook: the same rows, the grand total last."""

from __future__ import annotations

import csv
import io
from typing import Any

from gateway.reports.totals import COLUMNS, Report


def as_json(report: Report) -> dict[str, Any]:
    return {
        "period": report.period,
        "from": report.start.isoformat(),
        "to": report.end.isoformat(),
        "currency": "VND",
        "groups": [g.as_row() for g in report.groups],
        "total": report.total().as_row(),
    }


def as_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(g.as_row() for g in report.groups)
    writer.writerow(report.total().as_row())
    # With a byte order mark: Excel then opens the Vietnamese names as UTF-8.
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(report: Report) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(report.period[:31])
    sheet.append(list(COLUMNS))
    for g in report.groups:
        row = g.as_row()
        sheet.append([row[c] for c in COLUMNS])
    total = report.total().as_row()
    sheet.append([total[c] for c in COLUMNS])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()
