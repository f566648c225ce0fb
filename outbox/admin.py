"""Staff's view of outgoing email: what is waiting, what was sent, what failed and why.

Read-only: states move only through the outbox. Bodies and headers are never
shown, since they may hold one-time links (password resets, invitations).
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from outbox import services
from outbox.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "to_email",
        "subject",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "finished_at",
    ]
    list_filter = ["state", "created_at"]
    search_fields = ["to_email", "subject", "key"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = [
        "key",
        "to_email",
        "from_email",
        "subject",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "lease_until",
        "finished_at",
        "last_error",
    ]
    actions = ["retry_now"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        # Sending again writes nothing but the row's schedule; staff who may change it may retry.
        return request.user.has_perm("outbox.change_outboundemail")

    @admin.action(description="Retry now (failed or waiting emails)", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[OutboundEmail]) -> None:
        queued = services.retry_emails(emails=queryset)
        skipped = queryset.count() - queued
        text = f"{queued} email(s) queued to send again."
        if skipped:
            text += f" {skipped} already sent or being sent were left alone."
        self.message_user(request, text, messages.SUCCESS if queued else messages.WARNING)
