from django.urls import path

from support import views

app_name = "support"

urlpatterns = [
    path("contact/", views.contact, name="contact"),
    path("contact/sent/", views.sent, name="sent"),
    path("help/", views.help_request, name="help"),
]
