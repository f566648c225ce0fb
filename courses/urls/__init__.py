"""The courses app's URLs, one module per area."""

from courses.urls import calendar, enrolment, teaching, work

app_name = "courses"

urlpatterns = [
    *teaching.urlpatterns,
    *enrolment.urlpatterns,
    *work.urlpatterns,
    *calendar.urlpatterns,
]
