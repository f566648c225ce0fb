from django.contrib import admin

from notifications.models import CourseMute, DigestRun, Notification, NotificationPreference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "recipient", "kind", "course", "created_at", "read_at", "email_state"]
    list_filter = ["kind", "email_state", ("read_at", admin.EmptyFieldListFilter), "created_at"]
    list_select_related = ["recipient", "course"]
    search_fields = ["title", "recipient__email", "dedupe_key"]
    raw_id_fields = ["recipient", "actor", "course", "digest"]
    readonly_fields = ["created_at", "email_claimed_at", "email_sent_at", "email_attempts"]
    date_hierarchy = "created_at"


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "email_mode", "quiet_hours_start", "quiet_hours_end", "digest_hour"]
    list_filter = ["email_mode"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]


@admin.register(CourseMute)
class CourseMuteAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "created_at"]
    list_select_related = ["user", "course"]
    search_fields = ["user__email", "course__title", "course__slug"]
    raw_id_fields = ["user", "course"]


@admin.register(DigestRun)
class DigestRunAdmin(admin.ModelAdmin):
    list_display = ["user", "day", "state", "attempts", "sent_at"]
    list_filter = ["state", "day"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
