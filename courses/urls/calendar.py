"""Calendar, personal events, the ICS feed and attendance."""

from django.urls import path

from courses.views import attendance, calendar

urlpatterns = [
    path("calendar/", calendar.calendar, name="calendar"),
    path("calendar/events/new/", calendar.event_create, name="event_create"),
    path("calendar/events/<int:event_id>/edit/", calendar.event_edit, name="event_edit"),
    path("calendar/events/<int:event_id>/delete/", calendar.event_delete, name="event_delete"),
    path("calendar/feed/", calendar.calendar_feed_settings, name="calendar_feed_settings"),
    path(
        "calendar/feed/regenerate/",
        calendar.calendar_feed_regenerate,
        name="calendar_feed_regenerate",
    ),
    # Tokens are URL-safe base64, which `slug` matches; nothing else reaches the database.
    path("calendar/feed/<slug:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    path(
        "teach/courses/<slug:slug>/sessions/<int:item_id>/attendance/",
        attendance.attendance,
        name="attendance",
    ),
    path(
        "teach/courses/<slug:slug>/attendance/",
        attendance.attendance_overview,
        name="attendance_overview",
    ),
    path(
        "teach/courses/<slug:slug>/attendance.csv",
        attendance.attendance_csv,
        name="attendance_csv",
    ),
    path("courses/<slug:slug>/attendance/", attendance.my_attendance, name="my_attendance"),
]
