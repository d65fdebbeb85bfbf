"""The reports drawn: SVG charts made with matplotlib from the very report objects the JSON endpoints return, so a
chart can show nothing the audience's JSON withholds.

Each bar, marker or span carries its value back out: matplotlib writes an artist's `gid` as the `id` of its SVG
group, and `_label` then gives that group `data-chart`, `data-series`, `data-group` and `data-value` attributes
and a `<title>` (a tooltip, and text a screen reader reads). A withheld value is drawn as nothing, labelled "<5",
"suppressed" or "none" in place, and carries that string as its `data-value`.

Figures are made with `matplotlib.figure.Figure`, never pyplot: no global state shared between requests, no
display, the Agg machinery only. Ids are salted with a constant and the date left out, so the same report draws
the same bytes."""

import html
import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything else of matplotlib is imported: never look for a display

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from api_schemas.reports import CapacityReport, OutcomeBreakdowns, OutcomesReport, RecruitmentReport

matplotlib.rcParams.update({"svg.hashsalt": "peer-match", "svg.fonttype": "none", "font.size": 9})
WITHHELD_COLOUR = "#bbbbbb"
COLOURS = ("#1b6ca8", "#d9822b", "#3a8f4b", "#8a4fa0")
# Every breakdown of the outcomes report but the months, which the first chart draws over time.
OUTCOME_BREAKDOWNS = tuple(name for name in OutcomeBreakdowns.model_fields if name != "month")
CAPACITY_BREAKDOWNS = ("area", "language", "format")


def _shown(value: Any) -> str:
    return "none" if value is None else str(value)


class _Marks:
    """The values behind a chart's artists, by the gid given to each."""

    def __init__(self, chart: str) -> None:
        self.chart = chart
        self.values: dict[str, tuple[str, str, str]] = {}

    def gid(self, series: str, group: str, value: Any) -> str:
        gid = f"pm-{self.chart}-{len(self.values)}"
        self.values[gid] = (series, group, _shown(value))
        return gid


def _bars(ax: Axes, marks: _Marks, groups: Sequence[str], series: dict[str, Sequence[Any]]) -> None:
    """Grouped bars, one colour per series; a withheld value gets no bar, its label in its place."""
    width = 0.8 / max(len(series), 1)
    for s, (name, values) in enumerate(series.items()):
        for g, (group, value) in enumerate(zip(groups, values, strict=True)):
            x = g + (s - (len(series) - 1) / 2) * width
            number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
            bar = ax.bar(x, number or 0, width, color=COLOURS[s % len(COLOURS)], label=name if g == 0 else None)[0]
            bar.set_gid(marks.gid(name, group, value))
            if number is None:
                ax.annotate(_shown(value), (x, 0), ha="center", va="bottom", fontsize=7, color="#555555", rotation=90)
    ax.set_xticks(range(len(groups)), list(groups), rotation=30, ha="right")
    if len(series) > 1 and groups:
        ax.legend(frameon=False, fontsize=8)
    if not groups:
        ax.text(0.5, 0.5, "no data in this period", transform=ax.transAxes, ha="center", color="#555555")


def _to_svg(figure: Figure, marks: _Marks, title: str) -> str:
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None, "Title": title})
    svg = out.getvalue()

    def label(match: re.Match[str]) -> str:
        gid = match.group(1)
        series, group, value = marks.values[gid]
        attributes = " ".join(
            f'{name}="{html.escape(text)}"'
            for name, text in (("data-chart", marks.chart), ("data-series", series), ("data-group", group))
        )
        tip = html.escape(f"{series}, {group}: {value}")
        return f'<g id="{gid}" {attributes} data-value="{html.escape(value)}">\n   <title>{tip}</title>'

    svg = re.sub(r'<g id="(pm-[a-z]+-[0-9]+)">', label, svg)
    # The XML prolog and DOCTYPE would be out of place when the SVG sits inline in an HTML page.
    return svg[svg.index("<svg") :]


def outcomes_svg(report: OutcomesReport, *, breakdown: str = "format") -> str:
    """Four charts of an outcomes report: referrals received by month, waits (median and 90th percentile),
    take-up and drop-out by the breakdown named, and the EPDS change from baseline to end with its spread."""
    marks = _Marks("outcomes")
    figure = Figure(figsize=(9, 9), layout="constrained")
    title = (
        f"Outcomes, referrals received {report.period.from_day or 'from the start'} to {report.period.to_day or 'now'}"
    )
    figure.suptitle(f"{title} ({report.audience.value} report)")
    over_time, waits, rates, epds = figure.subplots(2, 2).flat

    months = report.breakdowns.month
    _bars(over_time, marks, [m.group for m in months], {"received": [m.received for m in months]})
    over_time.set(title="Referrals received by month", xlabel="Month received", ylabel="Referrals")

    total = report.total
    _bars(
        waits,
        marks,
        ["to a match", "to a first session"],
        {
            "median": [total.days_to_match_median, total.days_to_first_session_median],
            "90th percentile": [total.days_to_match_p90, total.days_to_first_session_p90],
        },
    )
    waits.set(title="Waiting times", xlabel="From referral", ylabel="Days")

    cells = getattr(report.breakdowns, breakdown)
    _bars(
        rates,
        marks,
        [c.group for c in cells],
        {"take-up": [c.take_up for c in cells], "drop-out": [c.drop_out for c in cells]},
    )
    rates.set(title=f"Take-up and drop-out by {breakdown.replace('_', ' ')}", ylabel="Share", ylim=(0, 1.05))

    _epds_spread(epds, marks, report)
    return _to_svg(figure, marks, title)


def _epds_spread(ax: Axes, marks: _Marks, report: OutcomesReport) -> None:
    """A box from the lower to the upper quartile with the median across it, and the mean with one standard
    deviation either side; nothing but the labels when the spread is withheld or there are no pairs."""
    spread = report.epds_change
    values = {
        "lower quartile": spread.p25,
        "median": spread.median,
        "upper quartile": spread.p75,
        "mean": spread.mean,
        "standard deviation": spread.sd,
    }
    ax.axhline(0, color="#888888", linewidth=0.8)
    if spread.p25 is not None and spread.p75 is not None and spread.median is not None:
        box = ax.bar(0, spread.p75 - spread.p25, 0.5, bottom=spread.p25, color=COLOURS[0], alpha=0.4)[0]
        box.set_gid(marks.gid("quartiles", "pairs", f"{spread.p25}..{spread.p75}"))
        (line,) = ax.plot([-0.25, 0.25], [spread.median, spread.median], color=COLOURS[0], linewidth=2)
        line.set_gid(marks.gid("median", "pairs", spread.median))
    if spread.mean is not None and spread.sd is not None:
        bars = ax.errorbar(1, spread.mean, yerr=spread.sd, fmt="o", color=COLOURS[1], capsize=6)
        bars.lines[0].set_gid(marks.gid("mean", "pairs", spread.mean))
    shown = ", ".join(f"{name} {_shown(value)}" for name, value in values.items())
    ax.text(0.5, -0.22, f"pairs {_shown(spread.pairs)}: {shown}", transform=ax.transAxes, ha="center", fontsize=7)
    ax.set_xticks([0, 1], ["median and quartiles", "mean ± 1 SD"])
    ax.set_xlim(-0.7, 1.7)
    ax.set(title="EPDS change, baseline to end", ylabel="End total - baseline total (negative is better)")


def capacity_svg(report: CapacityReport, *, breakdown: str = "area") -> str:
    """Ready volunteers, their free places and the waiting referrals, by the breakdown named."""
    marks = _Marks("capacity")
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    title = f"Capacity on {report.as_of} by {breakdown} ({report.audience.value} report)"
    figure.suptitle(title)
    ax = figure.subplots()
    cells = [*getattr(report.breakdowns, breakdown)]
    groups = ["all", *(c.group for c in cells)]
    rows = [report.total, *cells]
    _bars(
        ax,
        marks,
        groups,
        {
            "ready volunteers": [r.ready_volunteers for r in rows],
            "free places": [r.free_places for r in rows],
            "waiting referrals": [r.waiting_referrals for r in rows],
        },
    )
    ax.set(xlabel=breakdown.capitalize(), ylabel="People or places")
    return _to_svg(figure, marks, title)


def recruitment_svg(report: RecruitmentReport) -> str:
    """Where to recruit: per profile, the parents one such volunteer would match now, beside the waiting parents
    who fit the profile directly."""
    marks = _Marks("recruitment")
    figure = Figure(figsize=(9, 4.5), layout="constrained")
    title = f"Where to recruit on {report.as_of}: {report.matchable_now} of {report.waiting} waiting can be matched now"
    figure.suptitle(title)
    ax = figure.subplots()
    groups = [
        " ".join(part for part in (o.language, o.format.replace("_", " "), o.area, o.gender, o.specialism) if part)
        for o in report.openings
    ]
    _bars(
        ax,
        marks,
        groups,
        {
            "more parents matched": [o.would_match for o in report.openings],
            "waiting parents who fit": [o.fit_directly for o in report.openings],
        },
    )
    ax.set(xlabel="One more volunteer: language, format, area", ylabel="Parents")
    return _to_svg(figure, marks, title)
