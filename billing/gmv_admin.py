"""Sales totals (GMV) in the admin: read-only lists, searchable by the teacher's email.

Only purchases change the totals (`billing.services.gmv`); a wrong figure is
mended with `manage.py rebuild_gmv`, never by hand.
"""

from django.contrib import admin
from django.http import HttpRequest

from billing.models import GmvMonth, GmvYear
from core.money import format_money


class TotalsAdmin(admin.ModelAdmin):
    list_filter = ["currency"]
    list_select_related = ["teacher"]
    search_fields = ["teacher__email"]
    show_full_result_count = False

    @admin.display(description="gross", ordering="gross")
    def gross_amount(self, row: GmvMonth | GmvYear) -> str:
        return format_money(row.gross, row.currency)

    @admin.display(description="refunds", ordering="refunds")
    def refunded_amount(self, row: GmvMonth | GmvYear) -> str:
        return format_money(row.refunds, row.currency)

    @admin.display(description="fees kept", ordering="fees")
    def fees_amount(self, row: GmvMonth | GmvYear) -> str:
        return format_money(row.fees, row.currency)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(GmvMonth)
class GmvMonthAdmin(TotalsAdmin):
    """A teacher's sales per month and currency, for the last 24 months."""

    list_display = [
        "teacher",
        "month_name",
        "currency",
        "gross_amount",
        "refunded_amount",
        "fees_amount",
        "sales",
        "course_count",
        "student_count",
        "updated_at",
    ]
    date_hierarchy = "month"

    @admin.display(description="month", ordering="month")
    def month_name(self, row: GmvMonth) -> str:
        return f"{row.month:%B %Y}"


@admin.register(GmvYear)
class GmvYearAdmin(TotalsAdmin):
    """A teacher's sales per year and currency, for the months folded after 24 months."""

    list_display = [
        "teacher",
        "year",
        "currency",
        "gross_amount",
        "refunded_amount",
        "fees_amount",
        "sales",
        "course_count",
        "student_count",
        "months",
        "updated_at",
    ]
    list_filter = ["currency", "year"]
