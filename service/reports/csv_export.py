"""The outcomes report as one CSV table: the same figures as the JSON, one row per cell.

Columns: `breakdown`, `group`, then every figure in the JSON's order. The first row is `all,all` (the
totals), then each breakdown's groups, then `unmatched_reason` rows that fill only the `unmatched` column.
A withheld count is `<5` or `suppressed` (external reports); a null figure (withheld, or nothing to divide by) is
an empty field.

For Excel, as funders open it: UTF-8 with a byte order mark (without one Excel guesses the local code page),
CRLF line ends, exactly one header row, numbers unquoted, dates as YYYY-MM-DD, and a text field that Excel would
read as a formula (`=`, `+`, `-`, `@` first) led by an apostrophe."""

import csv
import io
from datetime import date
from typing import Any

from api_schemas.reports import OutcomeFigures, OutcomesReport

FIGURES = tuple(OutcomeFigures.model_fields)
COLUMNS = ("breakdown", "group", *FIGURES)
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def field(value: Any) -> str:
    """A value as Excel should read it."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return f"'{value}"
    return str(value)


def outcomes(report: OutcomesReport) -> str:
    """The report as one table, with the byte order mark first: encode the result as UTF-8."""
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow(["all", "all", *(field(getattr(report.total, name)) for name in FIGURES)])
    for breakdown in type(report.breakdowns).model_fields:
        for cell in getattr(report.breakdowns, breakdown):
            writer.writerow([breakdown, field(cell.group), *(field(getattr(cell, name)) for name in FIGURES)])
    for unmatched in report.unmatched_by_reason:
        writer.writerow(
            [
                "unmatched_reason",
                field(unmatched.reason.value),
                *(field(unmatched.referrals) if name == "unmatched" else "" for name in FIGURES),
            ]
        )
    return out.getvalue()
