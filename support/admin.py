"""Support requests in the admin: read, reply, close.

Requests come only from the contact and help forms, so staff don't add them
and the person's words are read-only. The change form has a reply box: saving
it keeps the reply with the request, emails it to the person (through the
outbox) and marks the request answered. Closing is a box on the same form and
an action on the list; a closed request is deleted 24 months later.
"""

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import linebreaks_filter
from django.utils.html import format_html_join

from support import services
from support.models import SupportRequest


class SupportRequestForm(forms.ModelForm):
    reply = forms.CharField(
        label="Reply",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
        help_text="Emailed to the person when you save, and kept with the request. "
        "Their answer comes back to the support address.",
    )
    close = forms.BooleanField(
        label="Close the request",
        required=False,
        help_text="When nothing more is needed. Closed requests are deleted after 24 months.",
    )

    class Meta:
        model = SupportRequest
        fields: list[str] = []


@admin.register(SupportRequest)
class SupportRequestAdmin(admin.ModelAdmin):
    form = SupportRequestForm
    list_display = ["reference", "created_at", "name", "email", "category", "status", "signed_in"]
    list_display_links = ["reference", "name"]
    list_filter = ["status", "category", "created_at"]
    search_fields = ["name", "email", "message", "=id"]
    date_hierarchy = "created_at"
    actions = ["close_requests", "reopen_requests"]
    readonly_fields = [
        "reference",
        "status",
        "name",
        "email",
        "user",
        "category",
        "created_at",
        "answered_at",
        "closed_at",
        "message",
        "conversation",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["reference", "status", "name", "email", "user", "category", "created_at"]},
        ),
        ("Message", {"fields": ["message"]}),
        ("Replies", {"fields": ["conversation", "answered_at"]}),
        ("Answer", {"fields": ["reply", "close"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="request", ordering="pk")
    def reference(self, obj: SupportRequest) -> str:
        return obj.reference

    @admin.display(description="signed in", boolean=True)
    def signed_in(self, obj: SupportRequest) -> bool:
        return obj.user_id is not None

    @admin.display(description="replies sent")
    def conversation(self, obj: SupportRequest) -> str:
        replies = obj.replies.select_related("staff")
        if not replies:
            return "None yet."
        return format_html_join(
            "",
            "<div class='support-reply'><p><strong>{}</strong> · {}</p>{}</div>",
            (
                (
                    reply.staff.get_full_name() or reply.staff.email if reply.staff else "Staff",
                    reply.sent_at.strftime("%d %b %Y %H:%M %Z"),
                    linebreaks_filter(reply.text, autoescape=True),
                )
                for reply in replies
            ),
        )

    def save_model(
        self, request: HttpRequest, obj: SupportRequest, form: forms.ModelForm, change: bool
    ) -> None:
        text = form.cleaned_data.get("reply", "").strip()
        if text:
            services.reply(support_request=obj, staff=request.user, text=text)  # type: ignore[arg-type]
            self.message_user(request, f"Your reply was emailed to {obj.email}.", messages.SUCCESS)
        if form.cleaned_data.get("close"):
            services.close(SupportRequest.objects.filter(pk=obj.pk))

    @admin.action(description="Close the selected requests")
    def close_requests(self, request: HttpRequest, queryset: QuerySet[SupportRequest]) -> None:
        closed = services.close(queryset)
        self.message_user(request, f"Closed {closed} request{'s' if closed != 1 else ''}.")

    @admin.action(description="Reopen the selected requests")
    def reopen_requests(self, request: HttpRequest, queryset: QuerySet[SupportRequest]) -> None:
        reopened = services.reopen(queryset)
        self.message_user(request, f"Reopened {reopened} request{'s' if reopened != 1 else ''}.")
