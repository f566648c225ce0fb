"""The survey in the admin: totals per question, never anyone's answers.

The survey responses' admin has one page, its changelist, which shows the
aggregates; the pages that would show a single response (change, history,
delete, add) don't exist. A choice picked by fewer than ten people shows
"fewer than 10" instead of a number (see `selectors.aggregates`).
"""

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_http_methods

from onboarding import selectors
from onboarding.models import SurveyResponse


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "",
                self.admin_site.admin_view(self.changelist_view),
                name="{}_{}_changelist".format(*info),
            )
        ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @method_decorator(require_http_methods(["GET", "HEAD", "POST"]))
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Onboarding survey: answers by question",
            "summaries": selectors.aggregates(),
            "min_bucket": selectors.MIN_BUCKET,
        }
        return TemplateResponse(request, "onboarding/admin_aggregates.html", context)
