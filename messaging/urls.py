from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("messages/", views.inbox, name="inbox"),
    path("messages/unread/", views.unread_badge, name="unread"),
    path("messages/new/", views.new, name="new"),
    path("messages/with/<int:user_id>/", views.direct, name="direct"),
    path("messages/course/<slug:slug>/", views.channel, name="channel"),
    path("messages/course/<slug:slug>/group/", views.new_group, name="new_group"),
    path("messages/<int:pk>/", views.conversation, name="conversation"),
    path("messages/<int:pk>/poll/", views.poll, name="poll"),
    path("messages/<int:pk>/post/", views.post, name="post"),
    path("messages/<int:pk>/people/", views.people, name="people"),
    path("messages/<int:pk>/people/<int:user_id>/mute/", views.mute, name="mute"),
    path("messages/message/<int:message_id>/edit/", views.edit, name="edit"),
    path("messages/message/<int:message_id>/delete/", views.delete, name="delete"),
    path("messages/message/<int:message_id>/react/", views.react, name="react"),
]
