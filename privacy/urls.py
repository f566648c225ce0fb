from django.urls import path

from privacy.views import dashboard, deletion, exports, policies

app_name = "privacy"

urlpatterns = [
    path("policies/accept/", policies.accept_policies, name="accept"),
    # Settings → Privacy: what Lectern holds, consents, export and deletion.
    path("settings/privacy/", dashboard.privacy_dashboard, name="dashboard"),
    path("settings/privacy/consents/", dashboard.update_consents, name="consents"),
    path("settings/privacy/export/", exports.request_export, name="export_request"),
    path("settings/privacy/export/status/", exports.export_status, name="export_status"),
    path(
        "settings/privacy/export/<int:export_id>/download/<str:token>/",
        exports.download_export,
        name="export_download",
    ),
    path("settings/privacy/delete/", deletion.delete_account, name="delete_account"),
    # Reached from emails by someone who can no longer sign in.
    path("account/deletion/scheduled/", deletion.deletion_scheduled, name="deletion_scheduled"),
    path("account/deletion/cancel/<str:token>/", deletion.cancel_deletion, name="deletion_cancel"),
]

# Policy pages live at the site root, where people expect them.
policy_urlpatterns = [
    path("terms/", policies.policy_page, {"slug": "terms"}, name="terms"),
    path("privacy/", policies.policy_page, {"slug": "privacy"}, name="privacy_policy"),
    path(
        "instructor-agreement/",
        policies.policy_page,
        {"slug": "instructor-agreement"},
        name="instructor_agreement",
    ),
    path(
        "community-guidelines/",
        policies.policy_page,
        {"slug": "community-guidelines"},
        name="community_guidelines",
    ),
    path("subprocessors/", policies.subprocessors, name="subprocessors"),
    path("cookies/", policies.cookies, name="cookies"),
]
