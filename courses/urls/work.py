from django.urls import path

from courses.views import work

urlpatterns = [
    path("courses/<slug:slug>/items/<int:item_id>/submit/", work.submit, name="submit"),
    path("courses/<slug:slug>/grades/", work.my_grades, name="my_grades"),
    path("teach/courses/<slug:slug>/grading/", work.grading, name="grading"),
    path("teach/courses/<slug:slug>/gradebook/", work.gradebook, name="gradebook"),
    path("teach/courses/<slug:slug>/gradebook.csv", work.gradebook_csv, name="gradebook_csv"),
    path("teach/submissions/<int:submission_id>/", work.grade, name="grade"),
]
