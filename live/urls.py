from django.urls import path

from live import views

app_name = "live"

urlpatterns = [
    path("webhooks/livekit/", views.livekit_webhook, name="livekit_webhook"),
    path("<int:item_id>/token/", views.join_token, name="join_token"),
]
