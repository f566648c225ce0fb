from courses.models.calendar import CalendarFeed, PersonalEvent
from courses.models.course import Course, Enrollment, Visibility, WaitlistEntry
from courses.models.items import CourseItem, Delivery, ItemKind, LatePolicy
from courses.models.work import Attendance, AttendanceSource, AttendanceStatus, Submission

__all__ = [
    "Attendance",
    "AttendanceSource",
    "AttendanceStatus",
    "CalendarFeed",
    "Course",
    "CourseItem",
    "Delivery",
    "Enrollment",
    "ItemKind",
    "LatePolicy",
    "PersonalEvent",
    "Submission",
    "Visibility",
    "WaitlistEntry",
]
