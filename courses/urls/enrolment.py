"""Enrolling, the teacher's roster, invitations and the student's course pages."""

from django.urls import path

from courses.views import enrolment, learning

urlpatterns = [
    # Actions behind the storefront's enrol box
    path("c/<slug:slug>/enrol/", enrolment.enroll, name="enroll"),
    path("c/<slug:slug>/register/", enrolment.register, name="register"),
    path("c/<slug:slug>/waitlist/", enrolment.join_waitlist, name="join_waitlist"),
    path("c/<slug:slug>/waitlist/leave/", enrolment.leave_waitlist, name="leave_waitlist"),
    path("join/<str:uidb36>/<str:key>/", enrolment.accept_invite, name="accept_invite"),
    # The teacher's roster
    path("teach/courses/<slug:slug>/students/", enrolment.roster, name="roster"),
    path("teach/courses/<slug:slug>/students/add/", enrolment.add_student, name="add_student"),
    path(
        "teach/courses/<slug:slug>/students/<int:student_id>/remove/",
        enrolment.remove_student,
        name="remove_student",
    ),
    # The student's side
    path("courses/", learning.my_courses, name="my_courses"),
    path("courses/<slug:slug>/", learning.course, name="course"),
    path("courses/<slug:slug>/items/<int:item_id>/", learning.item, name="item"),
    path("courses/<slug:slug>/leave/", learning.leave, name="leave"),
]
