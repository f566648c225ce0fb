"""A course's public page, its cover image and a teacher's page."""

from django.urls import path

from storefront import views

app_name = "storefront"

urlpatterns = [
    path("c/<slug:slug>/", views.storefront, name="course"),
    path("c/<slug:slug>/cover", views.cover, name="cover"),
    path("t/<slug:handle>/", views.teacher_page, name="teacher_page"),
]
