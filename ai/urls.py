from django.urls import path

from ai import views
from ai.views import assistant, feedback, policies, teacher, usage

app_name = "ai"

urlpatterns = [
    path("answers/<str:token>/", views.answer, name="answer"),
    path("consent/", assistant.consent, name="consent"),
    # A teacher's drafts
    path(
        "courses/<slug:slug>/announcement/",
        teacher.draft_announcement,
        name="draft_announcement",
    ),
    path("courses/<slug:slug>/questions/", teacher.draft_questions, name="draft_questions"),
    path("courses/<slug:slug>/recap/", teacher.draft_recap, name="draft_recap"),
    path(
        "submissions/<int:submission_id>/feedback/",
        feedback.draft_feedback,
        name="draft_feedback",
    ),
    path("courses/<slug:slug>/usage/", usage.course_usage, name="usage"),
    # The course assistant
    path("courses/<slug:slug>/assistant/", assistant.assistant, name="assistant"),
    path(
        "courses/<slug:slug>/items/<int:item_id>/explain/",
        assistant.explain_item,
        name="explain_item",
    ),
    # "Explain this page" on the policy pages
    path("policies/<slug:page>/explain/", policies.explain_page, name="explain_page"),
]
