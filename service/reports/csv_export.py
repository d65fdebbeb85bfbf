"""The outcomes report as one CSV table: the same figures as the JSON, one row per cell.

Columns: `breakdown`, `group`, then every figure in the JSON's order. The first row is `all,all` (the
totals), then each breakdown's groups, then `unmatched_reason` rows that fill only the `unmatched` column.
A suppressed count is `<5`; a null figure (suppressed, or nothing to divide by) is an empty field."""

import csv
import io
from typing import Any

from api_schemas.reports import OutcomeFigures, OutcomesReport

FIGURES = tuple(OutcomeFigures.model_fields)
COLUMNS = ("breakdown", "group", *FIGURES)


def _field(value: Any) -> str:
    return "" if value is None else str(value)


def outcomes(report: OutcomesReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    writer.writerow(["all", "all", *(_field(getattr(report.total, name)) for name in FIGURES)])
    for breakdown in type(report.breakdowns).model_fields:
        for cell in getattr(report.breakdowns, breakdown):
            writer.writerow([breakdown, cell.group, *(_field(getattr(cell, name)) for name in FIGURES)])
    for unmatched in report.unmatched_by_reason:
        writer.writerow(
            [
                "unmatched_reason",
                unmatched.reason.value,
                *(_field(unmatched.referrals) if name == "unmatched" else "" for name in FIGURES),
            ]
        )
    return out.getvalue()
