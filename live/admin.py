from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from live import webhooks
from live.models import LiveKitEvent, LiveRoom, ParticipantInterval, Participation, Recording


@admin.register(LiveRoom)
class LiveRoomAdmin(admin.ModelAdmin):
    list_display = ["name", "item", "created_at", "started_at", "finished_at"]
    list_select_related = ["item__course"]
    search_fields = ["name", "item__title", "item__course__title"]
    raw_id_fields = ["item"]
    readonly_fields = ["name", "created_at", "started_at", "finished_at"]


@admin.register(LiveKitEvent)
class LiveKitEventAdmin(admin.ModelAdmin):
    """The webhook log: every event once, its processing state and last error; replayable."""

    list_display = ["event_id", "type", "room_name", "status", "attempts", "created_at"]
    list_filter = ["status", "type"]
    search_fields = ["event_id", "room_name"]
    readonly_fields = [f.name for f in LiveKitEvent._meta.fields]
    actions = ["replay"]

    def has_add_permission(self, request: object) -> bool:
        return False

    @admin.action(description="Process the selected events again")
    def replay(self, request: HttpRequest, queryset: QuerySet[LiveKitEvent]) -> None:
        count = webhooks.INBOX.replay(queryset.values_list("event_id", flat=True))
        self.message_user(request, f"{count} event(s) queued again.", messages.SUCCESS)


@admin.register(ParticipantInterval)
class ParticipantIntervalAdmin(admin.ModelAdmin):
    list_display = ["identity", "room", "user", "joined_at", "left_at", "closed_by"]
    list_filter = ["closed_by"]
    list_select_related = ["room", "user"]
    search_fields = ["identity", "room__name", "user__email"]
    raw_id_fields = ["room", "user"]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    """Each person's time in each room, as attendance and the plan's minutes read it."""

    list_display = ["identity", "room", "user", "first_joined_at", "last_left_at", "seconds"]
    list_select_related = ["room", "user"]
    search_fields = ["identity", "room__name", "user__email"]
    readonly_fields = [f.name for f in Participation._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ["egress_id", "room", "status", "started_at", "duration_seconds", "size_bytes"]
    list_filter = ["status"]
    list_select_related = ["room"]
    search_fields = ["egress_id", "room__name", "room__item__title"]
    readonly_fields = [f.name for f in Recording._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
