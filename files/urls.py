from django.urls import path

from files import views

app_name = "files"

urlpatterns = [
    path("files/<int:file_id>/", views.download, name="download"),
]
