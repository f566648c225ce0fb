"""A teacher's sales as the database adds them up: totals, months, courses, the list, the CSV.

Every figure comes from one grouped query (Sum and Count by currency, by month
or by course), so the Sales page runs the same few queries for ten sales as
for ten thousand, and the CSV reads its rows through a cursor instead of
loading them all. Amounts are added up per currency, never across currencies:
a teacher selling in EUR and USD gets two sets of figures.

A sale is a purchase that was paid at least once: paid, refunded in part or
in full, or disputed. It is dated when it was paid. Its net is what
`Purchase.net_amount` says the teacher keeps (never below zero), so the
totals are the sum of the rows of the list and of the CSV.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cached_property
from typing import Any

from django.db.models import Count, F, IntegerField, QuerySet, Sum
from django.db.models.functions import Coalesce, Greatest, NullIf, TruncMonth

from accounts.models import User
from billing.models import Purchase
from core.money import currency as currency_of
from core.money import format_money, to_major

Status = Purchase.Status

# Purchases that were paid at least once; pending, failed and abandoned ones are not sales.
SOLD = (Status.PAID, Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.DISPUTED)
PAGE_SIZE = 25
MONTHS = 12

# `Purchase.fee_kept` in SQL: a refund gives the fee back in proportion (integer division,
# as in Python, on both PostgreSQL and SQLite).
_FEE_KEPT = F("application_fee_amount") - Coalesce(
    F("application_fee_amount") * F("refunded_amount") / NullIf(F("amount"), 0), 0
)

_FIGURES: dict[str, Any] = {
    "gross": Sum("amount"),
    "refunded": Sum("refunded_amount"),
    "fees": Sum(_FEE_KEPT, output_field=IntegerField()),
    "net": Sum(
        Greatest(
            F("amount") - F("refunded_amount") - _FEE_KEPT,
            0,
            output_field=IntegerField(),
        )
    ),
    "sales": Count("pk"),
    "students": Count("student", distinct=True),
}


@dataclass(frozen=True)
class SalesFilter:
    """What the teacher narrowed their sales to; an empty field narrows nothing."""

    course_id: int | None = None
    status: str = ""
    date_from: date | None = None
    date_to: date | None = None

    @property
    def narrows(self) -> bool:
        return bool(self.course_id or self.status or self.date_from or self.date_to)


@dataclass(frozen=True)
class Figures:
    """Money in minor units of `currency`, and how many sales and students it came from."""

    currency: str
    gross: int = 0
    refunded: int = 0
    fees: int = 0
    net: int = 0
    sales: int = 0
    students: int = 0


@dataclass(frozen=True)
class MonthFigures:
    month: date  # its first day
    figures: Figures


@dataclass(frozen=True)
class CourseFigures:
    # None once the course is deleted: its sales keep the title it had.
    course_id: int | None
    title: str
    figures: Figures


@dataclass(frozen=True)
class Report:
    """Everything the Sales page shows about one currency."""

    totals: Figures
    months: list[MonthFigures] = field(default_factory=list)
    courses: list[CourseFigures] = field(default_factory=list)

    @property
    def currency(self) -> str:
        return self.totals.currency

    @cached_property
    def month_chart(self) -> "ColumnChart | None":
        return month_chart(self.months, self.currency) if self.months else None

    @cached_property
    def course_chart(self) -> "BarChart":
        return course_chart(self.courses, self.currency)


def sales_of(teacher: User, chosen: SalesFilter, zone: tzinfo) -> QuerySet[Purchase]:
    """Return the teacher's sales narrowed by `chosen`, dates read in `zone`, with `sold_at`."""
    rows = Purchase.objects.filter(teacher=teacher, status__in=SOLD).alias(
        sold_at=Coalesce("paid_at", "created_at")
    )
    if chosen.course_id is not None:
        rows = rows.filter(course_id=chosen.course_id)
    if chosen.status:
        rows = rows.filter(status=chosen.status)
    if chosen.date_from is not None:
        rows = rows.filter(sold_at__gte=_start_of(chosen.date_from, zone))
    if chosen.date_to is not None:
        rows = rows.filter(sold_at__lt=_start_of(chosen.date_to + timedelta(days=1), zone))
    return rows


def reports(teacher: User, chosen: SalesFilter, zone: tzinfo, today: date) -> list[Report]:
    """Return the totals, months and courses of the teacher's sales, one report per currency."""
    rows = sales_of(teacher, chosen, zone)
    totals = [
        _figures(row) for row in rows.values("currency").annotate(**_FIGURES).order_by("currency")
    ]
    months = _months(teacher, chosen, zone, today)
    by_course: dict[str, list[CourseFigures]] = {}
    for row in (
        rows.values("course_id", "course_title", "currency")
        .annotate(**_FIGURES)
        .order_by(F("net").desc(), "course_title", "course_id")
    ):
        by_course.setdefault(row["currency"], []).append(
            CourseFigures(row["course_id"], row["course_title"], _figures(row))
        )
    return [
        Report(
            totals=figures,
            months=months.get(figures.currency, []),
            courses=by_course.get(figures.currency, []),
        )
        for figures in totals
    ]


def _figures(row: Mapping[str, Any]) -> Figures:
    return Figures(
        currency=row["currency"],
        gross=row["gross"] or 0,
        refunded=row["refunded"] or 0,
        fees=row["fees"] or 0,
        net=row["net"] or 0,
        sales=row["sales"],
        students=row["students"],
    )


def month_window(chosen: SalesFilter, today: date) -> list[date]:
    """Return the first days of the months the monthly figures cover, oldest first.

    The last twelve months up to the end of the chosen period (or today), and
    none before the period starts.
    """
    end = chosen.date_to or max(today, chosen.date_from or today)
    last = end.replace(day=1)
    months = [_add_months(last, -back) for back in reversed(range(MONTHS))]
    if chosen.date_from is not None:
        first = chosen.date_from.replace(day=1)
        months = [month for month in months if month >= first]
    return months


def _months(
    teacher: User, chosen: SalesFilter, zone: tzinfo, today: date
) -> dict[str, list[MonthFigures]]:
    """Return each currency's figures for every month of the window, months without sales too."""
    window = month_window(chosen, today)
    if not window:
        return {}
    first, last = window[0], _add_months(window[-1], 1) - timedelta(days=1)
    in_window = replace(
        chosen,
        date_from=max(first, chosen.date_from) if chosen.date_from else first,
        date_to=min(last, chosen.date_to) if chosen.date_to else last,
    )
    found: dict[tuple[str, date], Figures] = {}
    for row in (
        sales_of(teacher, in_window, zone)
        .annotate(month=TruncMonth("sold_at", tzinfo=zone))
        .values("month", "currency")
        .annotate(**_FIGURES)
        .order_by("month", "currency")
    ):
        found[row["currency"], row["month"].date()] = _figures(row)
    currencies = sorted({code for code, _ in found})
    return {
        code: [MonthFigures(month, found.get((code, month), Figures(code))) for month in window]
        for code in currencies
    }


def page_rows(teacher: User, chosen: SalesFilter, zone: tzinfo) -> QuerySet[Purchase]:
    """Return the sales for the list, newest first, with their students."""
    return (
        sales_of(teacher, chosen, zone)
        .annotate(sold_at=F("sold_at"))
        .select_related("student")
        .order_by("-sold_at", "-pk")
    )


# --- The CSV ----------------------------------------------------------------------------------

# A spreadsheet runs a cell starting with one of these as a formula (OWASP's list).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_rows(teacher: User, chosen: SalesFilter, zone: tzinfo) -> Iterator[list[str]]:
    """Yield the header, then one row per sale, newest first, read through a cursor.

    Amounts are in major units as plain decimals ("49.90"), ready for a
    spreadsheet; text a spreadsheet would run as a formula starts with an
    apostrophe.
    """
    yield [
        f"Date ({zone})",
        "Course",
        "Student",
        "Email",
        "Currency",
        "Price",
        "Discount",
        "Coupon code",
        "Paid",
        "Platform fee",
        "Refunded",
        "Net",
        "Status",
    ]
    for sale in page_rows(teacher, chosen, zone).iterator(chunk_size=1000):
        code = sale.currency
        student = sale.student
        sold_at = sale.paid_at or sale.created_at
        yield [
            sold_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
            _cell(sale.course_title),
            _cell(student.get_full_name()) if student is not None else "",
            _cell(student.email) if student is not None else "",
            code,
            str(to_major(sale.gross_amount, code)),
            str(to_major(sale.discount_amount, code)),
            _cell(sale.coupon_code),
            str(to_major(sale.amount, code)),
            str(to_major(sale.fee_kept, code)),
            str(to_major(sale.refunded_amount, code)),
            str(to_major(sale.net_amount, code)),
            str(sale.get_status_display()),
        ]


def _cell(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


# --- Charts -----------------------------------------------------------------------------------
#
# Geometry for the inline SVG charts. Horizontal positions are percentages of
# the chart's width and vertical ones pixels, so a chart fills any width while
# its text keeps its size.

PLOT_TOP = 10
PLOT_HEIGHT = 180
COLUMN_LABEL_Y = PLOT_TOP + PLOT_HEIGHT + 20
COLUMN_CHART_HEIGHT = COLUMN_LABEL_Y + 8
BAR_ROW = 44
BAR_HEIGHT = 12
# The chart of courses shows the best sellers; the table below it shows them all.
CHART_COURSES = 8


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Column:
    x: float  # percent
    width: float  # percent
    y: float
    height: float
    label: str
    label_x: float  # percent
    title: str
    # Every other month's label steps aside on narrow screens, where twelve don't fit.
    skip_when_narrow: bool = False


@dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    ticks: list[Tick]
    summary: str
    height: int = COLUMN_CHART_HEIGHT
    label_y: int = COLUMN_LABEL_Y


@dataclass(frozen=True)
class Bar:
    label: str
    value: str
    text_y: float
    y: float
    width: float  # percent
    title: str


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    summary: str
    bar_height: int = BAR_HEIGHT


def month_chart(months: list[MonthFigures], code: str) -> ColumnChart:
    """Lay out one column of net revenue per month, on a scale with round steps."""
    largest = max((m.figures.net for m in months), default=0)
    step, top = _scale(largest)
    # With nothing earned the axis shows its zero alone, not a made-up top.
    ticks = [
        Tick(
            round(PLOT_TOP + PLOT_HEIGHT - PLOT_HEIGHT * value / top, 2), _round_money(value, code)
        )
        for value in range(0, top + 1, step)
        if value == 0 or largest > 0
    ]
    slot = 100 / max(len(months), 1)
    columns = []
    for index, month in enumerate(months):
        net = month.figures.net
        height = PLOT_HEIGHT * net / top if net else 0
        if net and height < 2:
            height = 2  # a small month is still visible
        sales = month.figures.sales
        columns.append(
            Column(
                x=round(index * slot + slot * 0.2, 2),
                width=round(slot * 0.6, 2),
                y=round(PLOT_TOP + PLOT_HEIGHT - height, 2),
                height=round(height, 2),
                label=f"{month.month:%b}",
                label_x=round(index * slot + slot / 2, 2),
                title=(
                    f"{month.month:%B %Y}: {format_money(net, code)} net "
                    f"from {sales} sale{'s' if sales != 1 else ''}"
                ),
                skip_when_narrow=(len(months) - 1 - index) % 2 == 1,
            )
        )
    best = max(months, key=lambda m: m.figures.net, default=None)
    summary = f"{months[0].month:%B %Y} to {months[-1].month:%B %Y}" if months else ""
    if best is not None and best.figures.net:
        summary += (
            f"; the best month was {best.month:%B %Y}, "
            f"with {format_money(best.figures.net, code)} net"
        )
    return ColumnChart(columns, ticks, summary + ".")


def course_chart(courses: list[CourseFigures], code: str) -> BarChart:
    """Lay out one bar of net revenue per course, the best sellers first."""
    shown = courses[:CHART_COURSES]
    top = max((c.figures.net for c in shown), default=0)
    bars = []
    for index, course in enumerate(shown):
        net = course.figures.net
        width = 100 * net / top if top else 0
        row = index * BAR_ROW
        bars.append(
            Bar(
                label=_clip(course.title, 48),
                value=format_money(net, code),
                text_y=row + 14,
                y=row + 22,
                width=round(max(width, 0.5), 2) if net else 0,
                title=f"{course.title}: {format_money(net, code)} net",
            )
        )
    if len(shown) < len(courses):
        summary = f"The {len(shown)} courses that earned most, of {len(courses)}."
    else:
        summary = "Every course that sold, the one that earned most first."
    return BarChart(bars, height=len(bars) * BAR_ROW, summary=summary)


def _scale(largest: int) -> tuple[int, int]:
    """Return a round step and the top of a scale reaching `largest` in about four steps."""
    if largest <= 0:
        return 1, 1
    rough = -(-largest // 4)
    magnitude = 10 ** (len(str(rough)) - 1)
    step = next(f * magnitude for f in (1, 2, 5, 10) if f * magnitude >= rough)
    return step, step * -(-largest // step)


def _round_money(amount: int, code: str) -> str:
    """Return an axis label: "€1,500" rather than "€1,500.00" when there are no cents."""
    cur = currency_of(code)
    if amount % 10**cur.exponent:
        return format_money(amount, code)
    return f"{cur.symbol}{' ' if cur.spaced else ''}{amount // 10**cur.exponent:,}"


def _clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


# --- Dates ------------------------------------------------------------------------------------


def _start_of(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)
