from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("policies/accept/", views.accept_policies, name="accept"),
]

# Policy pages live at the site root, where people expect them.
policy_urlpatterns = [
    path("terms/", views.policy_page, {"slug": "terms"}, name="terms"),
    path("privacy/", views.policy_page, {"slug": "privacy"}, name="privacy_policy"),
    path(
        "instructor-agreement/",
        views.policy_page,
        {"slug": "instructor-agreement"},
        name="instructor_agreement",
    ),
    path(
        "community-guidelines/",
        views.policy_page,
        {"slug": "community-guidelines"},
        name="community_guidelines",
    ),
]
