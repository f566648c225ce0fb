from django.contrib import admin
from django.http import HttpRequest

from core import markdown
from messaging import services
from messaging.models import Attachment, Conversation, Message, Participant, Reaction


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    raw_id_fields = ["user", "muted_by"]
    fields = ["user", "last_read_message_id", "last_read_at", "muted_at", "muted_by"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["pk", "kind", "course", "title", "last_message_at", "version", "created_at"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["course"]
    search_fields = ["title", "course__title", "course__slug"]
    raw_id_fields = ["course", "created_by", "last_message"]
    readonly_fields = ["version", "direct_key", "created_at", "last_message_at"]
    inlines = [ParticipantInline]


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    raw_id_fields = ["file"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["pk", "conversation", "author", "created_at", "edited_at", "deleted_at"]
    list_filter = ["conversation__kind", "created_at"]
    list_select_related = ["conversation", "author"]
    search_fields = ["author__email", "author__last_name", "body"]
    raw_id_fields = ["conversation", "author", "deleted_by"]
    readonly_fields = ["body_html", "created_at", "version"]
    inlines = [AttachmentInline]

    def save_model(self, request: HttpRequest, obj: Message, form: object, change: bool) -> None:
        # What staff type is rendered and sanitised like any other message.
        obj.body_html = services.render_body(obj.body)
        obj.html_version = markdown.RENDERER_VERSION
        super().save_model(request, obj, form, change)


@admin.register(Reaction)
class ReactionAdmin(admin.ModelAdmin):
    list_display = ["pk", "emoji", "message", "user", "created_at"]
    list_select_related = ["message", "user"]
    search_fields = ["user__email"]
    raw_id_fields = ["message", "user"]
