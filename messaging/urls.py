from django.urls import path

from messaging import views

app_name = "messaging"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("unread/", views.unread_badge, name="unread"),
    path("new/", views.new, name="new"),
    path("with/<int:user_id>/", views.direct, name="direct"),
    path("course/<slug:slug>/", views.channel, name="channel"),
    path("course/<slug:slug>/group/", views.new_group, name="new_group"),
    path("<int:pk>/", views.conversation, name="conversation"),
    path("<int:pk>/poll/", views.poll, name="poll"),
    path("<int:pk>/post/", views.post, name="post"),
    path("<int:pk>/people/", views.people, name="people"),
    path("<int:pk>/people/<int:user_id>/mute/", views.mute, name="mute"),
    path("message/<int:message_id>/edit/", views.edit, name="edit"),
    path("message/<int:message_id>/delete/", views.delete, name="delete"),
    path("message/<int:message_id>/react/", views.react, name="react"),
]
