"""Charts of a traffic report, laid out on the server for inline SVG (no chart library).

The daily chart draws in a view box one unit wide per day and 100 high,
stretched to the page's width (`preserveAspectRatio="none"`, strokes that
don't scale): views as columns, visitors as a line. Bars (the funnel, the
sources) are widths in percent. Every chart comes with a summary for its
`<desc>` and a table of the same figures on the page.
"""

from dataclasses import dataclass

from analytics.selectors import DayFigures, Report, SourceFigures, Totals

PLOT_HEIGHT = 100


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    height: float
    title: str


@dataclass(frozen=True)
class DailyChart:
    width: int  # view box units: one per day
    columns: list[Column]
    line: str  # polyline points of the visitors
    top: int  # the scale's top, in views
    summary: str
    first_label: str
    last_label: str


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    width: float  # percent of the largest
    note: str = ""


def _top(largest: int) -> int:
    """Return a round number at or above `largest`, for the scale."""
    if largest <= 0:
        return 1
    magnitude = 10 ** (len(str(largest)) - 1)
    return next(f * magnitude for f in (1, 2, 5, 10) if f * magnitude >= largest)


def daily(series: list[DayFigures]) -> DailyChart:
    top = _top(max((d.views for d in series), default=0))
    columns = []
    points = []
    for index, day in enumerate(series):
        height = round(PLOT_HEIGHT * day.views / top, 2)
        columns.append(
            Column(
                x=round(index + 0.15, 2),
                y=round(PLOT_HEIGHT - height, 2),
                height=height,
                title=f"{day.day:%a %-d %b %Y}: {day.views} view{'s' if day.views != 1 else ''}, "
                f"{day.visitors} visitor{'s' if day.visitors != 1 else ''}",
            )
        )
        points.append(f"{index + 0.5},{round(PLOT_HEIGHT - PLOT_HEIGHT * day.visitors / top, 2)}")
    views = sum(d.views for d in series)
    visitors = sum(d.visitors for d in series)
    busiest = max(series, key=lambda d: d.views, default=None)
    summary = f"{views} views and {visitors} visitors over {len(series)} days"
    if busiest is not None and busiest.views:
        summary += f"; the busiest day was {busiest.day:%-d %B %Y} with {busiest.views} views"
    return DailyChart(
        width=max(len(series), 1),
        columns=columns,
        line=" ".join(points),
        top=top,
        summary=summary + ".",
        first_label=f"{series[0].day:%-d %b}" if series else "",
        last_label=f"{series[-1].day:%-d %b}" if series else "",
    )


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def funnel(totals: Totals) -> list[Bar]:
    steps = [
        ("Page views", totals.views),
        ("Enrol or buy clicks", totals.clicks),
        ("Registrations", totals.registrations),
        ("Enrolments", totals.enrolments),
        ("Purchases", totals.purchases),
    ]
    largest = max(value for _, value in steps) or 1
    bars = []
    previous = 0
    for index, (label, value) in enumerate(steps):
        note = "" if index == 0 else f"{_percent(value, previous)} of the step before"
        bars.append(Bar(label, value, round(100 * value / largest, 2), note))
        previous = value
    return bars


def sources(figures: list[SourceFigures]) -> list[Bar]:
    largest = max((f.totals.views for f in figures), default=0) or 1
    return [
        Bar(
            f.label,
            f.totals.views,
            round(100 * f.totals.views / largest, 2),
            f"{f.totals.visitors} visitors, {f.totals.enrolments} enrolments",
        )
        for f in figures
    ]


@dataclass(frozen=True)
class Charts:
    daily: DailyChart
    funnel: list[Bar]
    sources: list[Bar]
    referrers: list[Bar]


def charts_for(report: Report) -> Charts:
    return Charts(
        daily=daily(report.series),
        funnel=funnel(report.totals),
        sources=sources(report.sources),
        referrers=sources(report.referrers),
    )
