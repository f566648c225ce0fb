from django.urls import path

from onboarding import views

app_name = "onboarding"

urlpatterns = [
    path("welcome/", views.welcome, name="welcome"),
]
