"""Staff views of privacy requests: history and progress, never their contents.

Everything here is read-only: the states move only through the export and
deletion code, so the history staff see is what really happened. An export's
file is never shown or linked, since it holds a person's whole account.
"""

import functools
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from privacy import tasks
from privacy.models import DeletionRequest, ExportRequest, PolicyAcceptance


class ReadOnlyAdmin(admin.ModelAdmin):
    list_select_related = ["user"]
    search_fields = ["user__email"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExportRequest)
class ExportRequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "user", "state", "requested_at", "finished_at", "expires_at", "attempts"]
    list_filter = ["state", "requested_at"]
    date_hierarchy = "requested_at"
    # `file` is left out on purpose: staff see that an export exists, never what is in it.
    fields = [
        "user",
        "state",
        "requested_at",
        "started_at",
        "finished_at",
        "expires_at",
        "emailed_at",
        "size",
        "attempts",
        "error",
    ]


@admin.register(DeletionRequest)
class DeletionRequestAdmin(ReadOnlyAdmin):
    list_display = [
        "pk",
        "user",
        "state",
        "requested_at",
        "erase_after",
        "completed_at",
        "attempts",
    ]
    list_filter = ["state", "requested_at"]
    search_fields = ["user__email", "email"]
    date_hierarchy = "requested_at"
    fields = [
        "user",
        "email",
        "state",
        "requested_at",
        "erase_after",
        "cancelled_at",
        "started_at",
        "heartbeat_at",
        "completed_at",
        "receipt_sent_at",
        "attempts",
        "error",
        "steps",
        "kept",
    ]
    actions = ["retry_now"]

    @admin.action(description="Retry the erasure now (failed requests only)")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[DeletionRequest]) -> None:
        ids = list(queryset.filter(state=DeletionRequest.State.FAILED).values_list("pk", flat=True))
        for pk in ids:
            # The task claims the request itself, so a retry racing the sweep runs once.
            transaction.on_commit(functools.partial(tasks.erase_account_task.delay, pk))
        skipped = queryset.count() - len(ids)
        self.message_user(request, f"Retrying {len(ids)} failed erasure(s).", messages.SUCCESS)
        if skipped:
            self.message_user(
                request, f"Skipped {skipped} request(s) that had not failed.", messages.WARNING
            )


@admin.register(PolicyAcceptance)
class PolicyAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ["pk", "user", "document", "short_version", "accepted_at", "user_deleted_at"]
    list_filter = ["document", "accepted_at"]
    date_hierarchy = "accepted_at"
    fields = ["user", "document", "sha256", "accepted_at", "user_deleted_at"]

    @admin.display(description="version", ordering="sha256")
    def short_version(self, obj: PolicyAcceptance) -> str:
        return obj.sha256[:12]
