"""A teacher's Traffic pages."""

from django.urls import path

from analytics import views

app_name = "analytics"

urlpatterns = [
    path("teach/traffic/", views.traffic, name="traffic"),
    path("teach/courses/<slug:slug>/traffic/", views.course_traffic, name="course_traffic"),
]
