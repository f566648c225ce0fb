"""What the GMV tests compare: the stored totals, and the same worked out in Python."""

from collections import defaultdict
from datetime import date, datetime

from billing.models import GmvMonth, GmvYear, Purchase
from billing.services import gmv
from privacy import retention
from privacy.registry import registry


def stored() -> tuple[dict, dict]:
    """Every month and year row, by key, as the figures they hold."""
    months = {
        (r.teacher_id, r.month, r.currency): (
            r.gross,
            r.refunds,
            r.fees,
            r.sales,
            r.course_count,
            r.student_count,
        )
        for r in GmvMonth.objects.all()
    }
    years = {
        (r.teacher_id, r.year, r.currency): (
            r.gross,
            r.refunds,
            r.fees,
            r.sales,
            r.course_count,
            r.student_count,
            r.months,
        )
        for r in GmvYear.objects.all()
    }
    return months, years


def expected(at: datetime) -> tuple[dict, dict]:
    """The same figures worked out in Python from the purchases, with `Purchase.fee_kept`."""
    edge = gmv.horizon(at)
    groups: dict[tuple, list[tuple[Purchase, date]]] = defaultdict(list)
    for purchase in Purchase.objects.filter(status__in=gmv.COUNTED, teacher__isnull=False):
        assert purchase.paid_at is not None
        month = gmv.month_of(purchase.paid_at)
        key = (purchase.teacher_id, month if month >= edge else month.year, purchase.currency)
        groups[key].append((purchase, month))
    months, years = {}, {}
    for key, rows in groups.items():
        sales = [purchase for purchase, _ in rows]
        figures = (
            sum(p.amount for p in sales),
            sum(p.refunded_amount for p in sales),
            sum(p.fee_kept for p in sales),
            len(sales),
            len({p.course_id or ("deleted", p.course_title) for p in sales}),
            len({p.student_id or ("anonymised", p.pk) for p in sales}),
        )
        if isinstance(key[1], date):
            months[key] = figures
        else:
            years[key] = (*figures, len({month for _, month in rows}))
    return months, years


def fold() -> int:
    return retention.sweep_rule(registry.entries["billing.GmvMonth"]).rows
