from django.urls import path

from ai import views

app_name = "ai"

urlpatterns = [
    path("answers/<str:token>/", views.answer, name="answer"),
]
