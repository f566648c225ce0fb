from django.urls import path

from live import views
from live.views import controls, room

app_name = "live"

urlpatterns = [
    path("webhooks/livekit/", views.livekit_webhook, name="livekit_webhook"),
    path("<int:item_id>/token/", views.join_token, name="join_token"),
    path("<int:item_id>/", room.join_page, name="room"),
    path("<int:item_id>/participants/<str:identity>/mute/", controls.mute, name="mute"),
    path("<int:item_id>/participants/<str:identity>/remove/", controls.remove, name="remove"),
    path("<int:item_id>/participants/<str:identity>/stage/", controls.stage, name="stage"),
    path("<int:item_id>/end/", controls.end, name="end"),
    path("<int:item_id>/recording/start/", controls.recording_start, name="recording_start"),
    path("<int:item_id>/recording/stop/", controls.recording_stop, name="recording_stop"),
    path("recordings/<int:recording_id>/", controls.recording, name="recording"),
    path(
        "recordings/<int:recording_id>/delete/",
        controls.recording_delete,
        name="recording_delete",
    ),
]
