"""The report page: one self-contained HTML document with the charts inline and the tables, for a coordinator's
browser or phone. Nothing is fetched from elsewhere (no script at all, styles inline, SVG inline), so it opens
offline and prints; the response's Content-Security-Policy forbids any other load.

Every chart is a `<figure data-chart="...">` holding its `<svg>`; every table a `<table data-table="...">`, so
a test (or a reader's tool) can find each one."""

import html
from collections.abc import Iterable, Sequence
from typing import Any

from api_schemas.reports import CapacityReport, OutcomeFigures, OutcomesReport

CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'"
STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;padding:0 12px 40px;max-width:1100px;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}h3{font-size:1em}
figure{margin:1em 0}figure svg{max-width:100%;height:auto;display:block}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}thead th{background:#f0f0f0;position:sticky;top:0}
.note{color:#555;font-size:.9em}
"""
OUTCOME_COLUMNS = tuple(OutcomeFigures.model_fields)


def _cell(value: Any) -> str:
    return "" if value is None else html.escape(str(value))


def _table(name: str, caption: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th scope=col>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>" for row in rows)
    return (
        f'<div class=scroll><table data-table="{html.escape(name)}"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _figure(name: str, svg: str) -> str:
    return f'<figure data-chart="{html.escape(name)}">{svg}</figure>'


def tables(outcomes: OutcomesReport, capacity: CapacityReport) -> dict[str, str]:
    """Every table of the page by its name, in order."""
    out = {
        "outcomes-total": _table(
            "outcomes-total",
            "All referrals received in the period",
            ["", *OUTCOME_COLUMNS],
            [["all", *(getattr(outcomes.total, c) for c in OUTCOME_COLUMNS)]],
        )
    }
    for breakdown in type(outcomes.breakdowns).model_fields:
        name = f"outcomes-{breakdown}"
        out[name] = _table(
            name,
            f"By {breakdown.replace('_', ' ')}",
            [breakdown, *OUTCOME_COLUMNS],
            [[c.group, *(getattr(c, col) for col in OUTCOME_COLUMNS)] for c in getattr(outcomes.breakdowns, breakdown)],
        )
    spread = outcomes.epds_change
    out["outcomes-epds-change"] = _table(
        "outcomes-epds-change",
        "EPDS change, end total minus baseline total",
        ["pairs", "mean", "sd", "p25", "median", "p75"],
        [[spread.pairs, spread.mean, spread.sd, spread.p25, spread.median, spread.p75]],
    )
    out["outcomes-feedback"] = _table(
        "outcomes-feedback",
        "End-of-support feedback, per item",
        ["respondent", "item", "answers", "mean (1-5)", "yes"],
        [[f.respondent, f.item, f.answers, f.mean, f.yes] for f in outcomes.feedback],
    )
    out["outcomes-unmatched"] = _table(
        "outcomes-unmatched",
        "Still unmatched, by reason",
        ["reason", "referrals"],
        [[u.reason.value, u.referrals] for u in outcomes.unmatched_by_reason],
    )
    columns = ("ready_volunteers", "free_places", "waiting_referrals")
    for breakdown in type(capacity.breakdowns).model_fields:
        name = f"capacity-{breakdown}"
        rows = [["all", *(getattr(capacity.total, c) for c in columns)]]
        rows += [[g.group, *(getattr(g, c) for c in columns)] for g in getattr(capacity.breakdowns, breakdown)]
        out[name] = _table(name, f"Capacity today by {breakdown}", [breakdown, *columns], rows)
    return out


def render(outcomes: OutcomesReport, capacity: CapacityReport, charts: dict[str, str]) -> str:
    """The page: charts first, then every table; `charts` is SVG text by chart name."""
    period = f"{outcomes.period.from_day or 'the start'} to {outcomes.period.to_day or 'now'}"
    all_tables = tables(outcomes, capacity)
    outcome_tables = "".join(t for name, t in all_tables.items() if name.startswith("outcomes-"))
    capacity_tables = "".join(t for name, t in all_tables.items() if name.startswith("capacity-"))
    audience = outcomes.audience.value
    note = (
        "Exact counts, for the programme's coordinators."
        if audience == "internal"
        else 'For funders: counts of 1 to 4 show as "&lt;5", and cells that would give one back as "suppressed".'
    )
    figures = "".join(_figure(name, svg) for name, svg in charts.items())
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Peer-match reports, {html.escape(period)}</title><style>{STYLE}</style></head>
<body><h1>Peer-match reports</h1>
<p>Referrals received {html.escape(period)} ({html.escape(outcomes.period.time_zone)}); capacity on
{capacity.as_of}. Generated {outcomes.generated_at:%Y-%m-%d %H:%M} UTC. <span class=note>{note}</span></p>
<h2>Charts</h2>{figures}
<h2>Outcomes</h2>{outcome_tables}
<h2>Capacity</h2>{capacity_tables}
</body></html>
"""
