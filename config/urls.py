from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from accounts import views as account_views
from core import metrics as core_metrics
from core import views as core_views
from courses.views import dashboard as course_dashboard
from privacy.urls import policy_urlpatterns

admin.site.site_header = "Lectern administration"
admin.site.site_title = "Lectern admin"

urlpatterns = [
    path("", course_dashboard.home, name="home"),
    # The storefront answers most of the traffic: resolving it first saves trying every
    # other pattern on each visit.
    path("", include("storefront.urls")),
    # Open conversations poll every few seconds: the same goes for messaging, whose prefix
    # lets every other request skip its patterns at once.
    path("messages/", include("messaging.urls")),
    # Stripe's webhooks arrive in bursts and must be answered fast; billing's patterns
    # sit under three prefixes, so other requests pass them at once.
    path("", include("billing.urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("metrics", core_metrics.metrics, name="metrics"),
    path("csrf-token/", core_views.csrf_token, name="csrf_token"),
    path("dashboard/", course_dashboard.dashboard, name="dashboard"),
    path("accounts/signup/", account_views.signup, name="account_signup"),
    # allauth's own sessions list is replaced by Settings → Sessions.
    path("accounts/sessions/", RedirectView.as_view(pattern_name="accounts:sessions")),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("privacy.urls")),
    path("", include("files.urls")),
    path("", include("courses.urls")),
    path("", include("notifications.urls")),
    path("live/", include("live.urls")),
    path("ai/", include("ai.urls")),
    path("", include("crm.urls")),
    path("", include("analytics.urls")),
    path("", include("onboarding.urls")),
    path("", include("support.urls")),
    *policy_urlpatterns,
    path("admin/", admin.site.urls),
]

handler400 = "core.views.bad_request"
handler403 = "core.views.permission_denied"
handler404 = "core.views.page_not_found"
handler500 = "core.views.server_error"
handler429 = "core.views.too_many_requests"
