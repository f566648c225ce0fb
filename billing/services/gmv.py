"""Gross merchandise volume: each teacher's sales totals per month, then per year.

What counts, and where
    A purchase counts once it has been paid: its status is paid, partially
    refunded, refunded or disputed. It counts in the calendar month (UTC) of
    its `paid_at`, in its own currency, for the teacher on the purchase. A
    dispute leaves the sale in the totals whatever its outcome: money a bank
    takes back in a lost dispute is not a refund.

The totals (integer minor units of the row's currency)
    gross         what buyers were charged: `amount`, after any coupon.
    refunds       the `refunded_amount` of those sales, counted in the month of
                  the sale rather than of the refund, so a month says what
                  became of its own sales.
    fees          the platform fee kept: `Purchase.fee_kept`, that is
                  fee - fee * refunded // amount, with the same integer division
                  (every term is non-negative, so SQLite and PostgreSQL truncate
                  exactly as Python floors).
    sales         how many purchases.
    course_count  distinct courses; sales of a course since deleted count by
                  the title kept on the purchase.
    student_count distinct buyers. A purchase whose buyer was erased
                  (anonymised, kept for the tax record) counts as one buyer of
                  its own: the person is gone, the sale is not.

Kept in step, never added to
    `purchase_changed` runs inside the transaction that paid or refunded a
    purchase and recomputes the one (teacher, month, currency) row from the
    purchases themselves, so a duplicated or reordered event lands on the same
    numbers. It first claims the row with an upsert, which locks it: a second
    sale for the same teacher and month, processed at the same moment on
    PostgreSQL, waits there and then aggregates with the first one committed,
    instead of overwriting it with a total that misses it. Three queries
    whatever the number of purchases: claim, aggregate, write.

Folding
    A month row is kept for the current month and the 24 before it (the
    `horizon`); older months are folded into `GmvYear` by the retention sweep
    (`fold_months`, the GmvMonth rule in `billing.privacy`). A year row holds
    the part of its year before the horizon, computed from the purchases:
    sums, plus course and student counts distinct over the whole of that part
    of the year (not sums of monthly counts), and how many months had sales.
    A refund of a sale in a folded month refreshes its year the same way.

Rebuilding
    `rebuild` (`manage.py rebuild_gmv`) recomputes both the month rows and the
    year rows from the purchases in four set-based statements, with the same
    definitions, so it gives the numbers the incremental path gives.

Every path deletes month rows before it touches year rows, so two of them
running at once wait for each other instead of deadlocking.
"""

import operator
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import reduce
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    Count,
    DateField,
    DateTimeField,
    F,
    Model,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, ExtractYear, Trunc
from django.utils import timezone

from billing.models import GmvMonth, GmvYear, Purchase

Status = Purchase.Status

COUNTED = (Status.PAID, Status.PARTIALLY_REFUNDED, Status.REFUNDED, Status.DISPUTED)
KEEP_MONTHS = 24


def horizon(at: datetime | None = None) -> date:
    """Return the oldest month kept as a month row: the current UTC month, 24 months back."""
    at = (at or timezone.now()).astimezone(UTC)
    index = at.year * 12 + at.month - 1 - KEEP_MONTHS
    return date(index // 12, index % 12 + 1, 1)


def month_of(at: datetime) -> date:
    """Return the first day of `at`'s month, in UTC."""
    at = at.astimezone(UTC)
    return date(at.year, at.month, 1)


def counted_purchases() -> QuerySet[Purchase]:
    """The purchases GMV counts: paid (whatever became of them since) and still the teacher's."""
    return Purchase.objects.filter(
        status__in=COUNTED, paid_at__isnull=False, teacher__isnull=False
    ).order_by()


@transaction.atomic
def purchase_changed(purchase: Purchase) -> None:
    """Recompute, from the purchases, the totals `purchase` counts in (its month, or its year)."""
    if purchase.teacher_id is None or purchase.paid_at is None:
        return
    month = month_of(purchase.paid_at)
    edge = horizon()
    if month >= edge:
        _refresh_month(purchase.teacher_id, month, purchase.currency)
    else:
        _refresh_year(purchase.teacher_id, month.year, purchase.currency, edge)


def _refresh_month(teacher_id: int, month: date, currency: str) -> None:
    key = {"teacher_id": teacher_id, "month": month, "currency": currency}
    _claim(GmvMonth(**key), unique_fields=["teacher", "month", "currency"])
    totals = (
        counted_purchases()
        .filter(
            teacher_id=teacher_id,
            currency=currency,
            paid_at__gte=_midnight(month),
            paid_at__lt=_midnight(_next_month(month)),
        )
        .aggregate(**_totals())
    )
    _write(GmvMonth.objects.filter(**key), totals)


def _refresh_year(teacher_id: int, year: int, currency: str, edge: date) -> None:
    start, end = _folded_part(year, edge)
    GmvMonth.objects.filter(
        teacher_id=teacher_id, currency=currency, month__gte=start, month__lt=end
    ).delete()
    key = {"teacher_id": teacher_id, "year": year, "currency": currency}
    _claim(GmvYear(**key), unique_fields=["teacher", "year", "currency"])
    totals = (
        counted_purchases()
        .filter(
            teacher_id=teacher_id,
            currency=currency,
            paid_at__gte=_midnight(start),
            paid_at__lt=_midnight(end),
        )
        .aggregate(**_totals(), total_months=Count(_paid_month(), distinct=True))
    )
    _write(GmvYear.objects.filter(**key), totals)


def _claim(row: Model, *, unique_fields: list[str]) -> None:
    """Insert the row if it is missing and lock it either way (an upsert that touches it)."""
    type(row)._default_manager.bulk_create(
        [row], update_conflicts=True, unique_fields=unique_fields, update_fields=["updated_at"]
    )


def _write(rows: QuerySet, totals: dict[str, Any]) -> None:
    values = {name.removeprefix("total_"): value for name, value in totals.items()}
    if values["sales"]:
        rows.update(**values, updated_at=timezone.now())
    else:
        rows.delete()


def fold_months(months: QuerySet[GmvMonth]) -> int:
    """Fold month rows older than the horizon into their years; return how many months went.

    The retention sweep passes a batch of the months `months_to_fold` names;
    the batch's (teacher, year, currency) years are recomputed from the
    purchases, and every month of those years before the horizon goes, within
    the batch or not, so no sale is ever counted in a month and its year at
    once. Running it again finds nothing to fold and changes nothing.
    """
    edge = horizon()
    # A batch's years fall in few (year, currency) pairs: one condition each, with the
    # teachers as a list, keeps the statements short and lets the teacher indexes work.
    teachers_of: dict[tuple[int, str], list[int]] = defaultdict(list)
    for teacher_id, year, currency in set(
        months.filter(month__lt=edge)
        .annotate(year=ExtractYear("month"))
        .values_list("teacher_id", "year", "currency")
        .order_by()
    ):
        teachers_of[year, currency].append(teacher_id)
    if not teachers_of:
        return 0
    spans = {
        (year, currency, tuple(teachers)): _folded_part(year, edge)
        for (year, currency), teachers in teachers_of.items()
    }
    folded, _ = GmvMonth.objects.filter(
        _any(
            Q(teacher_id__in=teachers, currency=currency, month__gte=start, month__lt=end)
            for (_year, currency, teachers), (start, end) in spans.items()
        )
    ).delete()
    GmvYear.objects.filter(
        _any(
            Q(teacher_id__in=teachers, year=year, currency=currency)
            for year, currency, teachers in spans
        )
    ).delete()
    purchases = counted_purchases().filter(
        _any(
            Q(
                teacher_id__in=teachers,
                currency=currency,
                paid_at__gte=_midnight(start),
                paid_at__lt=_midnight(end),
            )
            for (_year, currency, teachers), (start, end) in spans.items()
        )
    )
    _insert_years(purchases)
    return folded


def months_to_fold() -> QuerySet[GmvMonth]:
    """Month rows older than the horizon: what the retention sweep folds into years."""
    return GmvMonth.objects.filter(month__lt=horizon())


@transaction.atomic
def rebuild(*, teacher_id: int | None = None) -> tuple[int, int]:
    """Recompute every month and year row (of one teacher, or everyone's) from the purchases.

    Months from the horizon on become month rows and earlier ones year rows,
    exactly as the incremental path and folding leave them; rows with no
    sales left disappear. Return how many month and year rows there are now.
    """
    edge = horizon()
    scope = Q() if teacher_id is None else Q(teacher_id=teacher_id)
    GmvMonth.objects.filter(scope).delete()
    months = _insert(
        GmvMonth,
        counted_purchases()
        .filter(scope, paid_at__gte=_midnight(edge))
        .annotate(paid_month=_paid_month())
        .values("teacher_id", "paid_month", "currency"),
        group=["teacher_id", "paid_month", "currency"],
        columns=["teacher_id", "month", "currency"],
    )
    GmvYear.objects.filter(scope).delete()
    years = _insert_years(counted_purchases().filter(scope, paid_at__lt=_midnight(edge)))
    return months, years


def _insert_years(purchases: QuerySet[Purchase]) -> int:
    return _insert(
        GmvYear,
        purchases.annotate(paid_year=ExtractYear("paid_at", tzinfo=UTC)).values(
            "teacher_id", "paid_year", "currency"
        ),
        group=["teacher_id", "paid_year", "currency"],
        columns=["teacher_id", "year", "currency"],
        extra={"months": Count(_paid_month(), distinct=True)},
    )


def _insert(
    model: type[Model],
    grouped: QuerySet,
    *,
    group: list[str],
    columns: list[str],
    extra: dict[str, Any] | None = None,
) -> int:
    """Insert one row of `model` per group of purchases, computed in the database.

    `grouped` is a `values()` query of the purchases on the `group` names,
    which fill the table's `columns`; the totals follow. One INSERT ...
    SELECT ... GROUP BY, with no row coming back to Python. A row that a
    concurrent `purchase_changed` inserted meanwhile is left as it is: it
    was computed from the purchases after this statement's view of them.
    """
    extra = extra or {}
    aggregates = {**_totals(), **{f"total_{name}": value for name, value in extra.items()}}
    stamped = Value(timezone.now(), output_field=DateTimeField())
    query = grouped.annotate(**aggregates, stamped_at=stamped).values_list(
        *group, *aggregates, "stamped_at"
    )
    sql, params = query.query.sql_with_params()
    quote = connection.ops.quote_name
    names = [*columns, *(name.removeprefix("total_") for name in aggregates), "updated_at"]
    insert = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(map(quote, names))}) "
        f"{sql} ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(insert, params)
        return cursor.rowcount


def _totals() -> dict[str, Any]:
    """The totals of a group of counted purchases, as aggregates named `total_<field>`."""
    fee_kept = Case(
        When(amount=0, then=Value(0)),
        # bigint before the product: fee * refunded overflows PostgreSQL's integer.
        default=F("application_fee_amount")
        - Cast("application_fee_amount", BigIntegerField()) * F("refunded_amount") / F("amount"),
        output_field=BigIntegerField(),
    )
    return {
        "total_gross": _sum(F("amount")),
        "total_refunds": _sum(F("refunded_amount")),
        "total_fees": _sum(fee_kept),
        "total_sales": Count("pk"),
        "total_course_count": Count("course", distinct=True)
        + Count("course_title", filter=Q(course__isnull=True), distinct=True),
        "total_student_count": Count("student", distinct=True)
        + Count("pk", filter=Q(student__isnull=True)),
    }


def _sum(expression: Any) -> Cast:
    # PostgreSQL sums bigints as numeric: cast back so both databases hand back an int.
    total = Coalesce(Sum(expression), Value(0), output_field=BigIntegerField())
    return Cast(total, BigIntegerField())


def _paid_month() -> Trunc:
    return Trunc("paid_at", "month", output_field=DateField(), tzinfo=UTC)


def _folded_part(year: int, edge: date) -> tuple[date, date]:
    """The months of `year` that are folded: from January to the horizon (or the year's end)."""
    return date(year, 1, 1), min(date(year + 1, 1, 1), edge)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _any(conditions: Iterable[Q]) -> Q:
    return reduce(operator.or_, conditions)
