from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("settings/profile/", views.settings_profile, name="profile"),
    path("settings/preferences/", views.settings_preferences, name="preferences"),
    path("settings/sessions/", views.settings_sessions, name="sessions"),
    path("settings/sessions/<int:session_id>/end/", views.end_session, name="end_session"),
    path("settings/sessions/end-others/", views.end_other_sessions, name="end_other_sessions"),
    path("preferences/color-scheme/", views.set_color_scheme, name="set_color_scheme"),
]
